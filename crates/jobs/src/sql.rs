//! Plain SQL for both backends: `?` placeholders become `$n` on PostgreSQL.

use pm_db::AppResult;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use serde_json::Value as Json;

pub fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub async fn execute<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(db.execute_raw(stmt(db.get_database_backend(), sql, values)).await?.rows_affected())
}

pub async fn query_all<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> AppResult<Vec<QueryResult>> {
    Ok(db.query_all_raw(stmt(db.get_database_backend(), sql, values)).await?)
}

pub async fn query_one<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> AppResult<Option<QueryResult>> {
    Ok(db.query_one_raw(stmt(db.get_database_backend(), sql, values)).await?)
}

/// A JSON column stored as text (both backends).
pub fn json_col(row: &QueryResult, i: usize) -> Json {
    match row.try_get_by_index::<Option<String>>(i) {
        Ok(Some(s)) => serde_json::from_str(&s).unwrap_or(Json::Null),
        _ => Json::Null,
    }
}
