use qrlogin_shared::config::Env;
use web_gateway::{Application, Settings};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env(&Env::from_process())?;
    // Held to the end: dropping it sends the spans still queued.
    let _telemetry = qrlogin_shared::telemetry::init(env!("CARGO_BIN_NAME"), settings.service.log_json)?;
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "web-gateway listening");
    app.run_until_stopped().await?;
    Ok(())
}
