//! Rendering jobs: a router's configuration (`devices.router.render_configuration`)
//! and an export template (`extras.exporttemplate.render`). The text is the
//! job's output; a template error errs the job with the template, line and
//! message in its log and in `data.error`.

use pm_render::RenderError;
use serde_json::json;

use crate::{JobCtx, Registry};

pub const RENDER_CONFIGURATION: &str = "devices.router.render_configuration";
pub const RENDER_EXPORT: &str = "extras.exporttemplate.render";

pub fn register(r: &mut Registry) {
    r.add(RENDER_CONFIGURATION, render_configuration);
    r.add(RENDER_EXPORT, render_export);
}

/// The error of a failed render, recorded where users and scripts look.
fn template_failure(ctx: &JobCtx, e: RenderError) -> anyhow::Error {
    if let RenderError::Template(t) = &e {
        ctx.set_data("error", json!({"template": t.template, "line": t.line, "message": t.message}));
        ctx.failure(&format!("Template error: {t}"));
    }
    anyhow::anyhow!(e.to_string())
}

/// A render job sees what the user who queued it may view.
async fn queued_by(ctx: &JobCtx) -> anyhow::Result<pm_render::Viewer> {
    Ok(pm_render::Viewer::of_job(&ctx.db, ctx.user_id).await?)
}

async fn render_configuration(ctx: JobCtx) -> anyhow::Result<()> {
    let id = ctx.object_id.ok_or_else(|| anyhow::anyhow!("The job names no router."))?;
    ctx.info("Rendering router configuration.");
    let viewer = queued_by(&ctx).await?;
    let rendered =
        pm_render::render_router_as(&ctx.db, &viewer, id, None).await.map_err(|e| template_failure(&ctx, e))?;
    let text = rendered.map(|r| r.text).unwrap_or_default();
    if text.is_empty() {
        ctx.info("No configuration (or empty) generated.");
    } else {
        ctx.output(&text);
    }
    ctx.success("Router configuration rendered.");
    Ok(())
}

async fn render_export(ctx: JobCtx) -> anyhow::Result<()> {
    let id = ctx.object_id.ok_or_else(|| anyhow::anyhow!("The job names no export template."))?;
    ctx.info("Rendering export template.");
    let viewer = queued_by(&ctx).await?;
    let text = pm_render::render_export(&ctx.db, &viewer, id).await.map_err(|e| template_failure(&ctx, e))?;
    ctx.output(&text);
    ctx.success("Export template rendered.");
    Ok(())
}
