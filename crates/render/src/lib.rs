//! Configuration, e-mail and export rendering in Peering Manager's Jinja2
//! dialect. Templates see a lazily loaded, batched object graph; errors are
//! reported as errors (template, line, message), never as output.

pub mod context;
pub mod datetime;
pub mod env;
pub mod filters;
pub mod graph;
pub mod imports;
pub mod ip;
pub mod lookup;
pub mod macros;
pub mod methods;
pub mod objects;
pub mod order;
pub mod peeringdb;
pub mod percent;
pub mod preview;
pub mod pyops;
pub mod strings;
pub mod whitespace;

use std::sync::Arc;

use pm_db::Db;
use sea_query::{Condition, Expr, ExprTrait};

pub use env::TemplateError;
use graph::Graph;
use objects::model;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{0}")]
    Internal(String),
}

impl std::error::Error for TemplateError {}

/// What a render produced, and what it cost.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    /// SQL statements issued while rendering.
    pub queries: usize,
}

/// A template given instead of the router's own.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub trim: bool,
    pub lstrip: bool,
}

async fn blocking<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(Arc<Graph>) -> Result<T, RenderError> + Send + 'static,
) -> Result<T, RenderError> {
    let graph = Graph::new(db.clone(), tokio::runtime::Handle::current());
    tokio::task::spawn_blocking(move || f(graph)).await.map_err(|e| RenderError::Internal(e.to_string()))?
}

fn missing(what: &str) -> RenderError {
    RenderError::NotFound(what.to_string())
}

/// Render a router's configuration (its own template, or `source`).
/// `Ok(None)` when the router has no configuration template.
pub async fn render_router(db: &Db, router_id: i64, source: Option<Source>) -> Result<Option<Rendered>, RenderError> {
    blocking(db, move |graph| render_in_graph(&graph, router_id, source)).await
}

/// Render several routers against one graph: what they share (IXPs, ASes,
/// policies, communities) is read once for all of them.
pub async fn render_routers(
    db: &Db,
    router_ids: Vec<i64>,
    source: Option<Source>,
) -> Result<Vec<(i64, Result<Option<Rendered>, RenderError>)>, RenderError> {
    blocking(db, move |graph| {
        Ok(router_ids.into_iter().map(|id| (id, render_in_graph(&graph, id, source.clone()))).collect())
    })
    .await
}

fn render_in_graph(
    graph: &Arc<Graph>,
    router_id: i64,
    source: Option<Source>,
) -> Result<Option<Rendered>, RenderError> {
    {
        let graph = graph.clone();
        let before = graph.query_count();
        let router = graph
            .get(model("devices.router"), router_id)
            .map_err(|e| RenderError::Internal(e.to_string()))?
            .ok_or_else(|| missing("No router matches the given query."))?;
        let source = match source {
            Some(s) => s,
            None => {
                let Some(tpl) = graph
                    .related(&router, "configuration_template")
                    .map_err(|e| RenderError::Internal(e.to_string()))?
                else {
                    return Ok(None);
                };
                Source {
                    name: format!("configuration::{}", tpl.text("name")),
                    text: tpl.text("template").to_string(),
                    trim: tpl.bool("jinja2_trim"),
                    lstrip: tpl.bool("jinja2_lstrip"),
                }
            }
        };
        let ctx = context::router(&graph, router_id).map_err(|e| RenderError::Internal(e.to_string()))?;
        let text = env::render_in(&graph, &source.name, &source.text, source.trim, source.lstrip, ctx)?;
        Ok(Some(Rendered { text, queries: graph.query_count() - before }))
    }
}

/// Render an e-mail template for an AS: (subject, body).
pub async fn render_email(db: &Db, email_id: i64, as_id: i64) -> Result<(String, String), RenderError> {
    render_email_in(db, email_id, move |graph| context::autonomous_system_email(graph, as_id)).await
}

/// Render an e-mail template for a PeeringDB network, from a local AS: (subject, body).
pub async fn render_network_email(
    db: &Db,
    email_id: i64,
    as_id: i64,
    network_id: i64,
) -> Result<(String, String), RenderError> {
    render_email_in(db, email_id, move |graph| context::network_email(graph, as_id, network_id)).await
}

/// Subject and body of an e-mail template in the context `ctx` builds
/// (a missing object there is a 404, like a missing e-mail).
async fn render_email_in(
    db: &Db,
    email_id: i64,
    ctx: impl FnOnce(&Arc<Graph>) -> Result<minijinja::Value, minijinja::Error> + Send + 'static,
) -> Result<(String, String), RenderError> {
    blocking(db, move |graph| {
        let email = graph
            .get(model("messaging.email"), email_id)
            .map_err(|e| RenderError::Internal(e.to_string()))?
            .ok_or_else(|| missing("No e-mail matches the given query."))?;
        let ctx = ctx(&graph).map_err(|e| RenderError::NotFound(e.to_string()))?;
        let (trim, lstrip) = (email.bool("jinja2_trim"), email.bool("jinja2_lstrip"));
        let name = format!("email::{}", email.text("name"));
        let subject = env::render_in(&graph, &name, email.text("subject"), trim, lstrip, ctx.clone())?;
        let body = env::render_in(&graph, &name, email.text("template"), trim, lstrip, ctx)?;
        Ok((subject, body))
    })
    .await
}

/// Render an export template over every object of its type.
pub async fn render_export(db: &Db, export_id: i64) -> Result<String, RenderError> {
    blocking(db, move |graph| {
        let tpl = graph
            .get(model("extras.exporttemplate"), export_id)
            .map_err(|e| RenderError::Internal(e.to_string()))?
            .ok_or_else(|| missing("No export template matches the given query."))?;
        let target = tpl
            .int("content_type")
            .and_then(pm_db::registry::by_ct_id)
            .ok_or_else(|| RenderError::Internal("export template without content type".into()))?;
        let ctx = context::export(&graph, target).map_err(|e| RenderError::Internal(e.to_string()))?;
        let name = format!("exporttemplate::{}", tpl.text("name"));
        Ok(env::render_in(
            &graph,
            &name,
            tpl.text("template"),
            tpl.bool("jinja2_trim"),
            tpl.bool("jinja2_lstrip"),
            ctx,
        )?)
    })
    .await
}

/// Router ids by name (all routers when `names` is empty), in name order.
pub async fn router_ids(db: &Db, names: &[String]) -> Result<Vec<(i64, String)>, RenderError> {
    let m = model("devices.router");
    let mut cond = Condition::all();
    if !names.is_empty() {
        cond = cond.add(Expr::col("name").is_in(names.to_vec()));
    }
    let rows = pm_db::load::fetch(&db.conn, m, cond, &[("name", false)], None, 0)
        .await
        .map_err(|e| RenderError::Internal(e.to_string()))?;
    Ok(rows.into_iter().map(|r| (r.id, r.text("name").to_string())).collect())
}
