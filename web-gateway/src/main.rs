//! `web-gateway [serve | check-config]`: thin, see `cli` and `startup` in the library.

use std::process::ExitCode;

use clap::Parser;
use qrlogin_shared::cli::{Command, Report};
use qrlogin_shared::config::Env;
use web_gateway::cli::{Cli, summary};
use web_gateway::{Application, Settings};

/// jemalloc keeps each size class in slabs of its own and hands out memory it has never touched, so the two 8 KiB
/// buffers actix-http gives every connection stay resident only as far as they are written (a page each for a
/// waiting browser). glibc reuses freed, already resident memory for them, and mimalloc writes into every block
/// it prepares: both cost a waiting browser several KiB more (README, "Memory per waiting browser").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const REPORT: Report = Report::new("web-gateway");

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or_default();
    let settings = match Settings::from_env(&Env::from_process()) {
        Ok(settings) => settings,
        Err(problems) => return REPORT.config_problems(command, &problems),
    };
    match command {
        Command::Serve => serve(settings),
        Command::CheckConfig => REPORT.check_config(|| Application::check(&settings).map(|()| summary(&settings))),
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> ExitCode {
    // Held to the end: dropping it sends the spans still queued.
    let _telemetry = match REPORT.telemetry(settings.service.log_json) {
        Ok(telemetry) => telemetry,
        Err(code) => return code,
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return REPORT.cannot_start(&e),
    };
    tracing::info!(port = app.port(), "web-gateway listening");
    REPORT.stopped(app.run_until_stopped().await)
}
