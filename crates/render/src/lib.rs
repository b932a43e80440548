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
pub mod limits;
pub mod lookup;
pub mod macros;
pub mod methods;
pub mod objects;
pub mod order;
pub mod peeringdb;
pub mod percent;
pub mod preview;
pub mod pyops;
pub mod scope;
pub mod strings;
pub mod whitespace;

use std::sync::Arc;

use pm_db::Db;
use sea_query::{Condition, Expr, ExprTrait};

pub use env::TemplateError;
use graph::Graph;
use objects::model;
pub use scope::Viewer;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The viewer may not use this template (an export of a model they may not view).
    #[error("{0}")]
    Forbidden(String),
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

/// Run a render on the blocking pool, as `viewer`, within the render limits:
/// it waits for one of `PM_RENDER_CONCURRENCY` slots, and stops (at its next
/// output, query or include) when its caller stops waiting for it.
async fn blocking<T: Send + 'static>(
    db: &Db,
    viewer: &Viewer,
    f: impl FnOnce(Arc<Graph>) -> Result<T, RenderError> + Send + 'static,
) -> Result<T, RenderError> {
    blocking_with(db, viewer, limits::Limits::current().clone(), f).await
}

async fn blocking_with<T: Send + 'static>(
    db: &Db,
    viewer: &Viewer,
    limits: limits::Limits,
    f: impl FnOnce(Arc<Graph>) -> Result<T, RenderError> + Send + 'static,
) -> Result<T, RenderError> {
    let permit = match tokio::time::timeout(limits.timeout, limits::slots().clone().acquire_owned()).await {
        Ok(p) => p.map_err(|e| RenderError::Internal(e.to_string()))?,
        Err(_) => {
            return Err(RenderError::Template(TemplateError {
                template: String::new(),
                line: None,
                message: format!(
                    "the server is busy with {} other renders; try again later (PM_RENDER_CONCURRENCY)",
                    limits.concurrency
                ),
            }));
        }
    };
    let graph = Graph::for_viewer(db.clone(), tokio::runtime::Handle::current(), viewer.clone(), limits);
    let _cancel = limits::CancelOnDrop(graph.budget.cancel_flag());
    tokio::task::spawn_blocking(move || {
        // The slot is held until the render really ends, not when its caller leaves.
        let _permit = permit;
        f(graph)
    })
    .await
    .map_err(|e| RenderError::Internal(e.to_string()))?
}

fn missing(what: &str) -> RenderError {
    RenderError::NotFound(what.to_string())
}

/// Render a router's configuration (its own template, or `source`) as the
/// system (CLI). `Ok(None)` when the router has no configuration template.
pub async fn render_router(db: &Db, router_id: i64, source: Option<Source>) -> Result<Option<Rendered>, RenderError> {
    render_router_as(db, &Viewer::System, router_id, source).await
}

/// [`render_router`] seeing only what `viewer` may view.
pub async fn render_router_as(
    db: &Db,
    viewer: &Viewer,
    router_id: i64,
    source: Option<Source>,
) -> Result<Option<Rendered>, RenderError> {
    blocking(db, viewer, move |graph| render_in_graph(&graph, router_id, source)).await
}

/// Render several routers against one graph: what they share (IXPs, ASes,
/// policies, communities) is read once for all of them.
pub async fn render_routers(
    db: &Db,
    router_ids: Vec<i64>,
    source: Option<Source>,
) -> Result<Vec<(i64, Result<Option<Rendered>, RenderError>)>, RenderError> {
    blocking(db, &Viewer::System, move |graph| {
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
                    if router.int("configuration_template").is_some() {
                        // Its template exists but is outside what the viewer may view.
                        return Err(RenderError::Forbidden(
                            "You do not have permission to view this router's configuration template.".into(),
                        ));
                    }
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

/// Render an e-mail template for an AS, as `viewer`: (subject, body).
pub async fn render_email(
    db: &Db,
    viewer: &Viewer,
    email_id: i64,
    as_id: i64,
) -> Result<(String, String), RenderError> {
    render_email_in(db, viewer, email_id, move |graph| context::autonomous_system_email(graph, as_id)).await
}

/// Render an e-mail template for a PeeringDB network, from a local AS: (subject, body).
pub async fn render_network_email(
    db: &Db,
    viewer: &Viewer,
    email_id: i64,
    as_id: i64,
    network_id: i64,
) -> Result<(String, String), RenderError> {
    render_email_in(db, viewer, email_id, move |graph| context::network_email(graph, as_id, network_id)).await
}

/// Subject and body of an e-mail template in the context `ctx` builds
/// (a missing object there is a 404, like a missing e-mail).
async fn render_email_in(
    db: &Db,
    viewer: &Viewer,
    email_id: i64,
    ctx: impl FnOnce(&Arc<Graph>) -> Result<minijinja::Value, minijinja::Error> + Send + 'static,
) -> Result<(String, String), RenderError> {
    blocking(db, viewer, move |graph| {
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

/// Render an export template over every object of its type `viewer` may view.
pub async fn render_export(db: &Db, viewer: &Viewer, export_id: i64) -> Result<String, RenderError> {
    blocking(db, viewer, move |graph| {
        let tpl = graph
            .get(model("extras.exporttemplate"), export_id)
            .map_err(|e| RenderError::Internal(e.to_string()))?
            .ok_or_else(|| missing("No export template matches the given query."))?;
        let target = tpl
            .int("content_type")
            .and_then(pm_db::registry::by_ct_id)
            .ok_or_else(|| RenderError::Internal("export template without content type".into()))?;
        export_allowed(&graph.viewer, target)?;
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

/// An export template renders only for those who may view its model.
pub fn export_allowed(viewer: &Viewer, target: &'static pm_db::model::Model) -> Result<(), RenderError> {
    if viewer.may_view(target) {
        Ok(())
    } else {
        Err(RenderError::Forbidden(format!("You do not have permission to view {}.", target.verbose_plural)))
    }
}

/// Render webhook text (URL, headers, body) with the event's context, as the
/// user whose change fired it.
pub async fn render_text(
    db: &Db,
    viewer: &Viewer,
    name: &str,
    source: &str,
    context: &serde_json::Value,
) -> Result<String, RenderError> {
    let (name, source, context) = (name.to_string(), source.to_string(), context.clone());
    blocking(db, viewer, move |graph| {
        let value = minijinja::Value::from(minijinja::value::Serde(&context));
        Ok(env::render_in(&graph, &name, &source, false, false, value)?)
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

#[cfg(test)]
mod limit_tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::limits::Limits;

    const ENDLESS: &str = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";

    fn generous() -> Limits {
        Limits {
            fuel: u64::MAX / 2,
            timeout: Duration::from_secs(3600),
            max_output_bytes: usize::MAX / 2,
            concurrency: 1,
        }
    }

    async fn memory_db() -> Db {
        Db::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wall_clock_stops_a_render() {
        let db = memory_db().await;
        let limits = Limits { timeout: Duration::from_secs(1), ..generous() };
        let r = blocking_with(&db, &Viewer::System, limits, |g| {
            Ok(env::render_in(&g, "configuration::slow", ENDLESS, false, false, minijinja::Value::UNDEFINED)?)
        })
        .await;
        let e = r.unwrap_err().to_string();
        assert!(e.contains("longer than 1 s") && e.contains("PM_RENDER_TIMEOUT_SECONDS"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_render_nobody_waits_for_stops() {
        let db = memory_db().await;
        let outcome: Arc<Mutex<Option<String>>> = Arc::default();
        let started = Arc::new(AtomicBool::new(false));
        let (o, s) = (outcome.clone(), started.clone());
        let fut = blocking_with(&db, &Viewer::System, generous(), move |g| {
            s.store(true, Ordering::Relaxed);
            let r = env::render_in(&g, "configuration::slow", ENDLESS, false, false, minijinja::Value::UNDEFINED);
            *o.lock().unwrap() = Some(r.map(|t| t.len().to_string()).unwrap_or_else(|e| e.to_string()));
            Ok(())
        });
        // The caller goes away (a client disconnecting drops the request's future).
        let mut fut = Box::pin(fut);
        while !started.load(Ordering::Relaxed) {
            assert!(tokio::time::timeout(Duration::from_millis(50), &mut fut).await.is_err());
        }
        drop(fut);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(r) = outcome.lock().unwrap().clone() {
                assert!(r.contains("cancelled"), "{r}");
                break;
            }
            assert!(Instant::now() < deadline, "the render ran on after its caller left");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn renders_beyond_the_concurrency_cap_wait_then_give_up() {
        let db = memory_db().await;
        let all = Limits::current().concurrency as u32;
        let held = limits::slots().clone().acquire_many_owned(all).await.unwrap();
        let limits = Limits { timeout: Duration::from_secs(1), ..generous() };
        let e = blocking_with(&db, &Viewer::System, limits.clone(), |_| Ok(())).await.unwrap_err().to_string();
        assert!(e.contains("busy") && e.contains("PM_RENDER_CONCURRENCY"), "{e}");
        drop(held);
        blocking_with(&db, &Viewer::System, limits, |_| Ok(())).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn endless_recursion_is_an_error_not_a_crash() {
        let db = memory_db().await;
        let e = blocking_with(&db, &Viewer::System, generous(), |g| {
            let text = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
            Ok(env::render_in(&g, "configuration::deep", text, false, false, minijinja::Value::UNDEFINED)?)
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("recursion"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fuel_and_output_are_capped() {
        let db = memory_db().await;
        let limits = Limits { fuel: 10_000, ..generous() };
        let e = blocking_with(&db, &Viewer::System, limits, |g| {
            Ok(env::render_in(&g, "configuration::busy", ENDLESS, false, false, minijinja::Value::UNDEFINED)?)
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("more than 10000 instructions") && e.contains("PM_RENDER_FUEL"), "{e}");
        let limits = Limits { max_output_bytes: 1000, ..generous() };
        let e = blocking_with(&db, &Viewer::System, limits, |g| {
            Ok(env::render_in(&g, "configuration::big", "{{ 'x' * 1001 }}", false, false, minijinja::Value::UNDEFINED)?)
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("larger than 1000 bytes") && e.contains("PM_RENDER_MAX_OUTPUT_BYTES"), "{e}");
    }
}
