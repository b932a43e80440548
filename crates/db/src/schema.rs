//! Tables, derived from the model declarations, plus the few tables that are
//! not models (content types, tagged items, preferences, sessions).
//!
//! Schema rule: `m0001` builds today's declarations. Once a release is out,
//! a change to a declaration needs a new migration that alters the tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::model::{Field, Init, Kind, Model, OnDelete};
use crate::registry::{self, MODELS};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001Initial)]
    }
}

pub struct M0001Initial;

impl MigrationName for M0001Initial {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(content_type_table()).await?;
        for m in ordered_models() {
            manager.create_table(model_table(m)).await?;
            for idx in model_indexes(m) {
                manager.create_index(idx).await?;
            }
            if manager.get_database_backend() == DbBackend::Sqlite
                && let Some(sql) = sqlite_ordering_index(m)
            {
                manager.get_connection().execute_unprepared(&sql).await?;
            }
        }
        for m in MODELS {
            for f in m.fields {
                if let Some(t) = join_table(m, f) {
                    manager.create_table(t).await?;
                }
            }
        }
        for t in support_tables() {
            manager.create_table(t).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("extras_taggeditem_object")
                    .table("extras_taggeditem")
                    .col("content_type_id")
                    .col("object_id")
                    .to_owned(),
            )
            .await?;
        seed(manager.get_connection()).await
    }
}

/// Content types and the five platforms a fresh Peering Manager has (spec §13).
/// Arista EOS encrypts with Arista's own type 7, as Peering Manager 1.10.4 does
/// (its rendered configurations carry `7 <base64>` secrets for EOS routers).
async fn seed<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    sync_content_types(db).await?;
    let now = chrono::Utc::now();
    for (name, slug, driver, algo) in [
        ("Arista EOS", "arista-eos", "eos", "arista-type7"),
        ("Juniper Junos", "juniper-junos", "junos", "juniper-type9"),
        ("Cisco IOS-XR", "cisco-iosxr", "iosxr", "cisco-type7"),
        ("Cisco NX-OS", "cisco-nxos", "nxos", "cisco-type7"),
        ("Cisco IOS", "cisco-ios", "ios", "cisco-type7"),
    ] {
        let stmt = Query::insert()
            .into_table("devices_platform")
            .columns(["name", "slug", "napalm_driver", "password_algorithm", "description", "created", "updated"])
            .values_panic([name.into(), slug.into(), driver.into(), algo.into(), "".into(), now.into(), now.into()])
            .to_owned();
        db.execute(&stmt).await?;
    }
    Ok(())
}

/// Make `django_content_type` match the registry (ids are registry positions).
pub async fn sync_content_types<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    for m in MODELS {
        let stmt = Query::insert()
            .into_table("django_content_type")
            .columns(["id", "app_label", "model"])
            .values_panic([registry::ct_id(m).into(), m.app.into(), m.name.into()])
            .on_conflict(OnConflict::column("id").do_nothing().to_owned())
            .to_owned();
        db.execute(&stmt).await?;
    }
    Ok(())
}

/// Tables in an order where every FK target exists before its referrers
/// (PostgreSQL checks references at CREATE time).
fn ordered_models() -> Vec<&'static Model> {
    fn visit(m: &'static Model, done: &mut Vec<&'static Model>, stack: &mut Vec<&'static str>) {
        if done.iter().any(|d| std::ptr::eq(*d, m)) || stack.contains(&m.table) {
            return;
        }
        stack.push(m.table);
        for f in m.fields {
            if let Kind::Fk { to, .. } = f.kind
                && let Some(t) = registry::model(to)
            {
                visit(t, done, stack);
            }
        }
        stack.pop();
        done.push(m);
    }
    let mut done = Vec::new();
    for m in MODELS {
        visit(m, &mut done, &mut Vec::new());
    }
    done
}

fn content_type_table() -> TableCreateStatement {
    Table::create()
        .table("django_content_type")
        .col(ColumnDef::new("id").big_integer().not_null().primary_key())
        .col(ColumnDef::new("app_label").string_len(100).not_null())
        .col(ColumnDef::new("model").string_len(100).not_null())
        .index(Index::create().unique().name("django_content_type_app_model").col("app_label").col("model"))
        .to_owned()
}

fn column(f: &Field) -> ColumnDef {
    let name = f.column().expect("column field");
    let mut c = ColumnDef::new(name);
    match f.kind {
        Kind::Id => {
            c.big_integer().not_null().auto_increment().primary_key();
            return c;
        }
        Kind::Int { .. } | Kind::IntChoice(_) | Kind::Fk { .. } | Kind::ContentType => {
            c.big_integer();
        }
        Kind::Float => {
            c.double();
        }
        Kind::Text { max } => {
            c.string_len(max as u32);
        }
        Kind::MultiChoice => {
            c.string_len(255);
        }
        Kind::Choice(_) => {
            c.string_len(50);
        }
        Kind::Inet { .. } | Kind::Mac | Kind::Uuid => {
            c.string_len(64);
        }
        Kind::Bool => {
            c.boolean();
        }
        Kind::LongText | Kind::Json { .. } | Kind::IntList | Kind::CidrList | Kind::StrList => {
            c.text();
        }
        Kind::DateTime => {
            c.timestamp_with_time_zone();
        }
        Kind::M2m { .. } | Kind::ContentTypes { .. } | Kind::Tags | Kind::Computed(_) => unreachable!(),
    }
    if !f.null {
        c.not_null();
    }
    match f.default {
        Init::Int(i) => {
            c.default(i);
        }
        Init::Bool(b) => {
            c.default(b);
        }
        Init::Text(s) | Init::Json(s) => {
            c.default(s);
        }
        _ => {}
    }
    if f.unique.is_some() {
        c.unique_key();
    }
    c
}

fn model_table(m: &'static Model) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(m.table);
    for f in m.columns() {
        t.col(column(f));
        let target = match f.kind {
            Kind::Fk { on_delete: OnDelete::NoConstraint, .. } => None,
            Kind::Fk { to, on_delete, .. } => registry::model(to).map(|t| (t.table, on_delete)),
            Kind::ContentType => Some(("django_content_type", OnDelete::Cascade)),
            _ => None,
        };
        if let Some((table, on_delete)) = target {
            t.foreign_key(
                ForeignKey::create()
                    .name(ident(format!("{}_{}_fk", m.table, f.name)))
                    .from(m.table, f.column().unwrap())
                    .to(table, "id")
                    .on_delete(match on_delete {
                        OnDelete::Cascade => ForeignKeyAction::Cascade,
                        OnDelete::SetNull => ForeignKeyAction::SetNull,
                        OnDelete::Protect => ForeignKeyAction::Restrict,
                        OnDelete::NoConstraint => unreachable!("no constraint declared"),
                    }),
            );
        }
    }
    t.to_owned()
}

fn model_indexes(m: &'static Model) -> Vec<IndexCreateStatement> {
    let mut out = Vec::new();
    for (cols, _) in m.unique_together {
        let mut idx = Index::create();
        idx.unique().name(ident(format!("{}_{}_uniq", m.table, cols.join("_")))).table(m.table);
        for c in *cols {
            idx.col(*c);
        }
        out.push(idx.to_owned());
    }
    // The default ordering, so a page is read from an index instead of
    // sorting the whole table (`id` last: it breaks ties in every query).
    let ordering: Vec<(&str, bool)> = m
        .ordering
        .iter()
        .map(|o| match o.strip_prefix('-') {
            Some(c) => (c, true),
            None => (*o, false),
        })
        .chain(std::iter::once(("id", false)))
        .collect();
    if ordering.len() > 1 {
        let mut idx = Index::create();
        idx.name(ident(format!("{}_ordering_idx", m.table))).table(m.table);
        for (col, desc) in ordering {
            if desc {
                idx.col((col, IndexOrder::Desc));
            } else {
                idx.col(col);
            }
        }
        out.push(idx.to_owned());
    }
    // FK columns are filtered and joined on constantly.
    for f in m.columns() {
        if matches!(f.kind, Kind::Fk { .. } | Kind::ContentType) || f.name == "time" {
            out.push(
                Index::create()
                    .name(ident(format!("{}_{}_idx", m.table, f.name)))
                    .table(m.table)
                    .col(f.column().unwrap())
                    .to_owned(),
            );
        }
    }
    out
}

/// SQLite cannot read `ORDER BY col NULLS LAST` from an index; queries order
/// nullable columns as `col IS NULL, col` instead (see `load::order`), and this
/// expression index serves that ordering.
fn sqlite_ordering_index(m: &'static Model) -> Option<String> {
    let mut terms = Vec::new();
    let mut any_nullable = false;
    // `id` is the rowid, which SQLite appends to every index entry already.
    for o in m.ordering.iter().copied() {
        let (col, desc) = match o.strip_prefix('-') {
            Some(c) => (c, " DESC"),
            None => (o, ""),
        };
        let nullable = m.columns().any(|f| f.column() == Some(col) && f.null);
        if nullable {
            any_nullable = true;
            terms.push(format!("(\"{col}\" IS NULL){desc}"));
        }
        terms.push(format!("\"{col}\"{desc}"));
    }
    any_nullable.then(|| {
        format!(
            "CREATE INDEX \"{}\" ON \"{}\" ({})",
            ident(format!("{}_null_ordering_idx", m.table)),
            m.table,
            terms.join(", ")
        )
    })
}

fn join_table(m: &Model, f: &Field) -> Option<TableCreateStatement> {
    let (table, src, dst, target) = match f.kind {
        Kind::M2m { to, table, src, dst } => (table, src, dst, registry::model(to)?.table),
        Kind::ContentTypes { table, src, dst } => (table, src, dst, "django_content_type"),
        _ => return None,
    };
    Some(
        Table::create()
            .table(table)
            .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
            .col(ColumnDef::new(src).big_integer().not_null())
            .col(ColumnDef::new(dst).big_integer().not_null())
            .foreign_key(
                ForeignKey::create()
                    .name(ident(format!("{table}_src_fk")))
                    .from(table, src)
                    .to(m.table, "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name(ident(format!("{table}_dst_fk")))
                    .from(table, dst)
                    .to(target, "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .index(Index::create().unique().name(ident(format!("{table}_uniq"))).col(src).col(dst))
            .to_owned(),
    )
}

fn support_tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table("extras_taggeditem")
            .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
            .col(ColumnDef::new("tag_id").big_integer().not_null())
            .col(ColumnDef::new("content_type_id").big_integer().not_null())
            .col(ColumnDef::new("object_id").big_integer().not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("extras_taggeditem_tag_fk")
                    .from("extras_taggeditem", "tag_id")
                    .to("extras_tag", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .index(
                Index::create()
                    .unique()
                    .name("extras_taggeditem_uniq")
                    .col("content_type_id")
                    .col("object_id")
                    .col("tag_id"),
            )
            .to_owned(),
        Table::create()
            .table("users_userpreferences")
            .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
            .col(ColumnDef::new("user_id").big_integer().not_null().unique_key())
            .col(ColumnDef::new("data").text().not_null().default("{}"))
            .foreign_key(
                ForeignKey::create()
                    .name("users_userpreferences_user_fk")
                    .from("users_userpreferences", "user_id")
                    .to("auth_user", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned(),
        Table::create()
            .table("users_session")
            .col(ColumnDef::new("id").string_len(64).not_null().primary_key())
            .col(ColumnDef::new("data").text().not_null())
            .col(ColumnDef::new("expires").timestamp_with_time_zone().not_null())
            .to_owned(),
    ]
}

/// Constraint and index names within PostgreSQL's 63-byte identifier limit
/// (longer names are truncated there and then collide).
fn ident(name: String) -> String {
    if name.len() <= 60 {
        return name;
    }
    let digest = pm_domain_hash(&name);
    format!("{}_{digest}", &name[..50])
}

fn pm_domain_hash(s: &str) -> String {
    // FNV-1a: stable across releases, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

/// Run pending migrations. On PostgreSQL an advisory lock makes concurrent
/// `serve` processes wait for the first one instead of racing it.
pub async fn migrate(db: &crate::Db) -> Result<(), DbErr> {
    let conn = &db.conn;
    // sea_orm_migration's own chatter is silenced by default (it talks on every
    // CLI command); say it once here when there is something to do.
    let pending = Migrator::get_pending_migrations(conn).await?;
    if !pending.is_empty() {
        let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
        tracing::info!("applying database migrations: {}", names.join(", "));
    }
    if conn.get_database_backend() == DbBackend::Postgres {
        let lock = sea_orm::Database::connect({
            let mut o = sea_orm::ConnectOptions::new(db.url.clone());
            o.max_connections(1).sqlx_logging(false);
            o
        })
        .await?;
        lock.execute_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_advisory_lock(4242001)")).await?;
        let result = Migrator::up(conn, None).await;
        lock.execute_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_advisory_unlock(4242001)")).await?;
        lock.close().await?;
        result?;
    } else {
        Migrator::up(conn, None).await?;
    }
    // Models added after a database was created get their content type here.
    sync_content_types(conn).await
}
