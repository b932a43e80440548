//! Whose eyes a template sees through. Every object a render reaches is
//! loaded through the graph, and the graph asks the viewer first: rows outside
//! the viewer's `view` constraints are not there, and secret fields read as
//! empty without `view_secrets` — for every kind of template and include.

use std::sync::Arc;

use pm_db::auth::Perms;
use pm_db::model::Model;
use sea_query::Condition;

/// The user behind a render. `System` (the CLI, the scheduler) sees everything.
#[derive(Debug, Clone, Default)]
pub enum Viewer {
    #[default]
    System,
    User(Arc<Perms>),
}

impl Viewer {
    pub fn user(perms: Perms) -> Viewer {
        if perms.is_superuser() { Viewer::System } else { Viewer::User(Arc::new(perms)) }
    }

    /// The user a job was queued by (`None`: queued by the system).
    /// A user that no longer exists or is inactive sees nothing.
    pub async fn of_job(db: &pm_db::Db, user_id: Option<i64>) -> Result<Viewer, pm_db::AppError> {
        let Some(id) = user_id else { return Ok(Viewer::System) };
        match pm_db::auth::user_by_id(&db.conn, id).await? {
            Some(u) if u.is_active => Ok(Viewer::user(pm_db::auth::load_perms(&db.conn, &u).await?)),
            _ => Ok(Viewer::user(Perms::none())),
        }
    }

    /// Extra condition on rows of `model`: `Some(None)` means no row at all,
    /// `None` means no restriction.
    pub fn rows(&self, model: &'static Model) -> Option<Option<Condition>> {
        match self {
            Viewer::System => None,
            Viewer::User(p) => Some(p.scope(model, "view")),
        }
    }

    pub fn may_view(&self, model: &'static Model) -> bool {
        match self {
            Viewer::System => true,
            Viewer::User(p) => p.allows(model, "view"),
        }
    }

    pub fn sees_secrets(&self, model: &'static Model) -> bool {
        match self {
            Viewer::System => true,
            Viewer::User(p) => p.allows(model, "view_secrets"),
        }
    }
}
