//! How the service containers run: as the image's unprivileged user, on a read-only root filesystem, with no
//! demo data in the image.

use crate::deployment::{container, podman};

const SERVICES: [&str; 3] = ["gateway-a", "gateway-b", "mobile-api"];

#[test]
fn the_services_run_as_a_non_root_uid_on_a_read_only_root() {
    for service in SERVICES {
        let name = container(service);
        let inspected = podman(&["inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", &name]);
        assert_eq!(inspected, "10001:10001 true", "{service}");
        // The service process itself, not only the configuration.
        let status = podman(&["exec", &name, "cat", "/proc/1/status"]);
        let uid = status.lines().find(|l| l.starts_with("Uid:")).expect("a Uid line");
        assert_eq!(uid.split_whitespace().collect::<Vec<_>>(), ["Uid:", "10001", "10001", "10001", "10001"]);
        // Even root in the container cannot write the root filesystem.
        let out = std::process::Command::new("podman")
            .args(["exec", "--user", "0", &name, "touch", "/usr/local/bin/written"])
            .output()
            .expect("podman runs");
        assert!(!out.status.success(), "{service}: the root filesystem took a write");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"), "{service}: {out:?}");
    }
}

#[test]
fn the_runtime_images_hold_no_demo_users_or_keys() {
    for image in ["qrlogin/web-gateway", "qrlogin/mobile-api"] {
        let found = podman(&[
            "run",
            "--rm",
            "--user",
            "0",
            "--entrypoint",
            "find",
            image,
            "/",
            "-xdev",
            "(",
            "-name",
            "users.json",
            "-o",
            "-name",
            "*.pem",
            "-path",
            "*qrlogin*",
            ")",
        ]);
        assert_eq!(found, "", "{image} carries development data");
    }
}
