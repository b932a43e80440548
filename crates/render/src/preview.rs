//! Rendering text that is not saved (the template editor) and export
//! templates over a chosen list of objects (a filtered list page), with the
//! variables the template can see.

use std::sync::Arc;

use minijinja::value::Value;
use pm_db::model::Model;

use crate::graph::Graph;
use crate::objects::{Item, Lazy, Set, model, set};
use crate::{RenderError, Source, TemplateError, Viewer, blocking, context, env};

/// What a template is rendered against.
#[derive(Debug, Clone)]
pub enum Target {
    /// A router's configuration context (§1.4.1).
    Router(i64),
    /// An e-mail to an AS (§1.4.2).
    AutonomousSystem(i64),
    /// An export template's `dataset`: these objects of the model, in its ordering.
    Export(&'static Model, Vec<i64>),
}

/// A context variable: its name, what it is, and the fields of its objects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Variable {
    pub name: String,
    pub kind: String,
    pub fields: Vec<&'static str>,
}

/// The outcome of a preview: the variables, and the text (with the subject of
/// an e-mail) or the template's error.
#[derive(Debug)]
pub struct Preview {
    pub variables: Vec<Variable>,
    pub output: Result<(String, Option<String>), TemplateError>,
}

fn fields_of(m: &'static Model) -> Vec<&'static str> {
    m.fields.iter().filter(|f| f.api && !f.write_only).map(|f| f.name).collect()
}

fn describe(name: &str, v: &Value) -> Variable {
    let (kind, fields) = if let Some(i) = v.downcast_object_ref::<Item>() {
        (format!("{} ({})", i.obj.model.verbose, i.obj.model.label()), fields_of(i.obj.model))
    } else if let Some(s) = v.downcast_object_ref::<Set>() {
        (format!("{} {} (queryset)", s.ids.len(), s.model.verbose_plural), fields_of(s.model))
    } else if v.downcast_object_ref::<Lazy>().is_some() {
        ("queryset, loaded when used".to_string(), vec![])
    } else if v.is_none() || v.is_undefined() {
        ("None".to_string(), vec![])
    } else {
        (v.kind().to_string(), vec![])
    };
    Variable { name: name.to_string(), kind, fields }
}

fn variables(ctx: &Value) -> Vec<Variable> {
    let Ok(keys) = ctx.try_iter() else { return vec![] };
    keys.filter_map(|k| {
        let name = k.as_str()?.to_string();
        let v = ctx.get_attr(&name).ok()?;
        Some(describe(&name, &v))
    })
    .collect()
}

fn context_for(graph: &Arc<Graph>, target: &Target) -> Result<Value, RenderError> {
    let internal = |e: minijinja::Error| RenderError::Internal(e.to_string());
    match target {
        Target::Router(id) => {
            graph
                .get(model("devices.router"), *id)
                .map_err(|e| RenderError::Internal(e.to_string()))?
                .ok_or_else(|| RenderError::NotFound("No router matches the given query.".into()))?;
            context::router(graph, *id).map_err(internal)
        }
        Target::AutonomousSystem(id) => {
            context::autonomous_system_email(graph, *id).map_err(|e| RenderError::NotFound(e.to_string()))
        }
        Target::Export(m, ids) => {
            crate::export_allowed(&graph.viewer, m)?;
            graph.ensure(m, ids).map_err(|e| RenderError::Internal(e.to_string()))?;
            let ids = graph.drop_hidden(m, ids.clone());
            let ids = graph.sorted(m, ids).map_err(|e| RenderError::Internal(e.to_string()))?;
            Ok(minijinja::context! { dataset => set(graph, m, ids) })
        }
    }
}

/// Render `source` (and an e-mail `subject`) against `target`, as `viewer`. Reads only.
pub async fn preview(
    db: &pm_db::Db,
    viewer: &Viewer,
    target: Target,
    source: Source,
    subject: Option<String>,
) -> Result<Preview, RenderError> {
    blocking(db, viewer, move |graph| {
        let ctx = context_for(&graph, &target)?;
        let vars = variables(&ctx);
        let render = |text: &str| env::render_in(&graph, &source.name, text, source.trim, source.lstrip, ctx.clone());
        let output = (|| {
            let subject = subject.as_deref().map(render).transpose()?;
            Ok((render(&source.text)?, subject))
        })();
        Ok(Preview { variables: vars, output })
    })
    .await
}

/// An export template over these objects (a filtered list), as saved.
pub async fn render_export_objects(
    db: &pm_db::Db,
    viewer: &Viewer,
    export_id: i64,
    ids: Vec<i64>,
) -> Result<String, RenderError> {
    let tpl = blocking(db, viewer, move |graph: Arc<Graph>| {
        graph
            .get(model("extras.exporttemplate"), export_id)
            .map_err(|e| RenderError::Internal(e.to_string()))?
            .ok_or_else(|| RenderError::NotFound("No export template matches the given query.".into()))
    })
    .await?;
    let target = tpl
        .int("content_type")
        .and_then(pm_db::registry::by_ct_id)
        .ok_or_else(|| RenderError::Internal("export template without content type".into()))?;
    let source = Source {
        name: format!("exporttemplate::{}", tpl.text("name")),
        text: tpl.text("template").to_string(),
        trim: tpl.bool("jinja2_trim"),
        lstrip: tpl.bool("jinja2_lstrip"),
    };
    let p = preview(db, viewer, Target::Export(target, ids), source, None).await?;
    Ok(p.output?.0)
}
