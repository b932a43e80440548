//! The schema the model declarations imply, plus the few tables that are not
//! models (content types, tagged items, preferences, sessions).
//!
//! Databases are built and upgraded by the SQL files in `migrations/`, never
//! from this module: a test (`schema` in the integration suite) builds both
//! and fails when a declaration changed without its migration.

use sea_orm::DbBackend;
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_query::*;

use crate::model::{Field, Init, Kind, Model, OnDelete};
use crate::registry::{self, MODELS};

/// Every statement the declarations imply, in an order PostgreSQL accepts
/// (FK targets first). This is what the migrations must add up to; the
/// schema test compares the two, and `m0001_initial` was frozen from it.
pub fn declared_sql(backend: DbBackend) -> Vec<String> {
    fn build<S: SchemaStatementBuilder>(backend: DbBackend, s: &S) -> String {
        match backend {
            DbBackend::Postgres => s.to_string(PostgresQueryBuilder),
            _ => s.to_string(SqliteQueryBuilder),
        }
    }
    let mut out = vec![build(backend, &content_type_table())];
    for m in ordered_models() {
        out.push(build(backend, &model_table(m)));
        for idx in model_indexes(m) {
            out.push(build(backend, &idx));
        }
        if backend == DbBackend::Sqlite
            && let Some(sql) = sqlite_ordering_index(m)
        {
            out.push(sql);
        }
    }
    for m in MODELS {
        for f in m.fields {
            if let Some(t) = join_table(m, f) {
                out.push(build(backend, &t));
            }
        }
    }
    for t in support_tables() {
        out.push(build(backend, &t));
    }
    out.push(build(
        backend,
        &Index::create()
            .name("extras_taggeditem_object")
            .table("extras_taggeditem")
            .col("content_type_id")
            .col("object_id")
            .to_owned(),
    ));
    out
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

/// One table as the database reports it: column, index and constraint
/// descriptions keyed by name, so two databases compare as plain maps.
#[derive(Debug, Default, PartialEq)]
pub struct TableShape {
    pub columns: BTreeMap<String, String>,
    pub indexes: BTreeMap<String, String>,
    pub constraints: BTreeMap<String, String>,
}

/// Every table of a database (the migrations bookkeeping table excluded).
pub async fn describe<C: ConnectionTrait>(db: &C) -> Result<BTreeMap<String, TableShape>, DbErr> {
    let backend = db.get_database_backend();
    let q = |sql: &str, table: &str| Statement::from_sql_and_values(backend, sql, [table.into()]);
    let text = |r: &sea_orm::QueryResult, i: usize| -> String {
        r.try_get_by_index::<Option<String>>(i).ok().flatten().unwrap_or_else(|| {
            r.try_get_by_index::<Option<i64>>(i).ok().flatten().map(|n| n.to_string()).unwrap_or_default()
        })
    };
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let mut out = BTreeMap::new();
    for t in db.query_all_raw(Statement::from_string(backend, tables_sql)).await? {
        let table = text(&t, 0);
        if table == crate::migrations::TABLE {
            continue;
        }
        let mut shape = TableShape::default();
        if backend == DbBackend::Postgres {
            let cols = "SELECT column_name::text, data_type::text, character_maximum_length::text, \
                        is_nullable::text, column_default::text, is_identity::text \
                        FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1";
            for r in db.query_all_raw(q(cols, &table)).await? {
                let desc = format!(
                    "{}({}) nullable={} default={} identity={}",
                    text(&r, 1),
                    text(&r, 2),
                    text(&r, 3),
                    text(&r, 4),
                    text(&r, 5)
                );
                shape.columns.insert(text(&r, 0), desc);
            }
            let idx = "SELECT indexname::text, indexdef FROM pg_indexes \
                       WHERE schemaname = current_schema() AND tablename = $1";
            for r in db.query_all_raw(q(idx, &table)).await? {
                shape.indexes.insert(text(&r, 0), text(&r, 1));
            }
            let cons = "SELECT c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
                        JOIN pg_class t ON t.oid = c.conrelid \
                        WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace";
            for r in db.query_all_raw(q(cons, &table)).await? {
                shape.constraints.insert(text(&r, 0), text(&r, 1));
            }
        } else {
            let cols = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)";
            for r in db.query_all_raw(q(cols, &table)).await? {
                let desc =
                    format!("{} notnull={} default={} pk={}", text(&r, 1), text(&r, 2), text(&r, 3), text(&r, 4));
                shape.columns.insert(text(&r, 0), desc);
            }
            let list = "SELECT l.name, l.\"unique\", m.sql FROM pragma_index_list(?) l \
                        LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name";
            for r in db.query_all_raw(q(list, &table)).await? {
                let name = text(&r, 0);
                let info = "SELECT name, \"desc\" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno";
                let mut cols = Vec::new();
                for c in db.query_all_raw(q(info, &name)).await? {
                    let col = r_opt(&c, 0).unwrap_or_else(|| "<expression>".into());
                    cols.push(if text(&c, 1) == "1" { format!("{col} DESC") } else { col });
                }
                let mut desc = format!("unique={} ({})", text(&r, 1), cols.join(", "));
                if cols.iter().any(|c| c.starts_with("<expression>")) {
                    // Expressions are only visible in the statement text.
                    desc = format!("{desc} {}", text(&r, 2).split_whitespace().collect::<Vec<_>>().join(" "));
                }
                // Unnamed (column UNIQUE / PRIMARY KEY) indexes are numbered by
                // position: key them by their columns instead.
                let key =
                    if name.starts_with("sqlite_autoindex_") { format!("unique({})", cols.join(", ")) } else { name };
                shape.indexes.insert(key, desc);
            }
            let fks = "SELECT \"from\", \"table\", \"to\", on_delete, on_update FROM pragma_foreign_key_list(?)";
            for r in db.query_all_raw(q(fks, &table)).await? {
                let desc =
                    format!("-> {}.{} on delete {} on update {}", text(&r, 1), text(&r, 2), text(&r, 3), text(&r, 4));
                shape.constraints.insert(format!("foreign key ({})", text(&r, 0)), desc);
            }
        }
        out.insert(table, shape);
    }
    Ok(out)
}

fn r_opt(r: &sea_orm::QueryResult, i: usize) -> Option<String> {
    r.try_get_by_index::<Option<String>>(i).ok().flatten()
}

/// What differs between the schema the migrations built and the one the
/// declarations imply, one line per table, column, index or constraint.
pub fn diff(migrated: &BTreeMap<String, TableShape>, declared: &BTreeMap<String, TableShape>) -> Vec<String> {
    let mut out = Vec::new();
    for (table, want) in declared {
        let Some(have) = migrated.get(table) else {
            out.push(format!("table {table}: declared, but no migration creates it"));
            continue;
        };
        for (what, have, want) in [
            ("column", &have.columns, &want.columns),
            ("index", &have.indexes, &want.indexes),
            ("constraint", &have.constraints, &want.constraints),
        ] {
            for (name, w) in want {
                match have.get(name) {
                    None => {
                        out.push(format!("table {table} {what} {name}: declared as `{w}`, missing after migrations"))
                    }
                    Some(h) if h != w => {
                        out.push(format!("table {table} {what} {name}: migrations give `{h}`, declarations give `{w}`"))
                    }
                    _ => {}
                }
            }
            for (name, h) in have {
                if !want.contains_key(name) {
                    out.push(format!(
                        "table {table} {what} {name}: `{h}` exists after migrations, but is not declared"
                    ));
                }
            }
        }
    }
    for table in migrated.keys().filter(|t| !declared.contains_key(*t)) {
        out.push(format!("table {table}: exists after migrations, but no declaration has it"));
    }
    out
}
