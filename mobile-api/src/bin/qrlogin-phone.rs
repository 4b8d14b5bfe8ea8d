//! The reference phone client. For now: `qrlogin-phone dev-token --user alice [--ttl-secs 3600]` prints a
//! development user token, read from the same QRL_USER_JWT_* settings as mobile-api.

use std::time::Duration;

use mobile_api::config::UserJwtSettings;
use mobile_api::dev_token;
use qrlogin_shared::config::Env;

const USAGE: &str = "usage: qrlogin-phone dev-token --user <id> [--ttl-secs <n>]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some("dev-token"), rest) = (args.first().map(String::as_str), args.get(1..).unwrap_or_default()) else {
        return Err(USAGE.into());
    };
    let mut user = None;
    let mut ttl = 3600;
    for pair in rest.chunks(2) {
        match pair {
            [flag, value] if flag == "--user" => user = Some(value.clone()),
            [flag, value] if flag == "--ttl-secs" => ttl = value.parse()?,
            _ => return Err(USAGE.into()),
        }
    }
    let user = user.ok_or(USAGE)?;
    let settings = UserJwtSettings::from_env(&Env::from_process())?;
    println!("{}", dev_token::mint(&settings, &user, Duration::from_secs(ttl))?);
    Ok(())
}
