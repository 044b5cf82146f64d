//! The full-screen app (being built: issue 4).

use crate::settings::Settings;

/// Runs the full-screen app until the user quits.
pub async fn run(_settings: Settings) -> anyhow::Result<()> {
    anyhow::bail!("the full-screen app is not built yet; use a verb such as `kiss-tui list`")
}

/// Starts an in-process dev server with sample secrets and runs the app against it.
pub async fn run_demo(_settings: Settings) -> anyhow::Result<()> {
    anyhow::bail!("the demo is not built yet")
}
