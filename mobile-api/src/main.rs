//! `mobile-api [serve | check-config]`: thin, see `cli` and `startup` in the library.

use std::process::ExitCode;

use clap::Parser;
use mobile_api::cli::{Cli, summary};
use mobile_api::{Application, Settings};
use qrlogin_shared::cli::{Command, Report};
use qrlogin_shared::config::{ConfigError, Env};
use qrlogin_shared::server::StartupError;

const REPORT: Report = Report::new("mobile-api");

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or_default();
    let settings = match Settings::from_env(&Env::from_process()) {
        Ok(settings) => settings,
        Err(problems) => return REPORT.config_problems(command, &problems),
    };
    match command {
        Command::Serve => serve(settings),
        Command::CheckConfig => REPORT.checked(
            qrlogin_shared::telemetry::check()
                .and_then(|()| Application::check(&settings))
                .map(|()| summary(&settings)),
        ),
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> ExitCode {
    // Held to the end: dropping it sends the spans still queued.
    let _telemetry = match qrlogin_shared::telemetry::init(env!("CARGO_BIN_NAME"), settings.service.log_json) {
        Ok(telemetry) => telemetry,
        Err(e) => return REPORT.cannot_start(&StartupError::Config(ConfigError::unusable(&e).into())),
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return REPORT.cannot_start(&e),
    };
    tracing::info!(port = app.port(), "mobile-api listening");
    REPORT.stopped(app.run_until_stopped().await)
}
