//! The SQL of the entity layer's writes: a record's insert, update, upsert and delete by
//! key (written directly; their text depends only on which columns are set), and the
//! statements over many rows (through the query builder, aware of soft deletes and
//! timestamps).

use std::fmt::Write as _;

use super::find::column_name;
use super::{Deleted, Entity};
use crate::meta::TableMeta;
use crate::query::built::Node;
use crate::query::sources::AllIn;
use crate::query::{
    AssignmentList, BoolLike, BoundValue, Built, DeleteStatement, Expression, SqlQuery,
    UpdateStatement, delete, update,
};
use crate::quote_ident;

/// A record's change for one statement: (column index, value) pairs.
pub type RecordWrite = Vec<(usize, BoundValue)>;

fn push_columns(out: &mut String, meta: &TableMeta) {
    for (i, c) in meta.columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote_ident(c.name));
    }
}

fn index_of(meta: &TableMeta, name: &str) -> usize {
    meta.columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("table {} has no column {name}", meta.name))
}

/// `WHERE pk1 = $n AND pk2 = $n+1 …` for `key`, appending its values.
fn where_key<T: Entity>(sql: &mut String, key: &T::Key, params: &mut Vec<BoundValue>) {
    let meta = T::meta();
    let mut values = Vec::new();
    T::key_values(key, &mut values);
    sql.push_str(" WHERE ");
    for (i, (name, v)) in meta.primary_key.iter().zip(values).enumerate() {
        if i > 0 {
            sql.push_str(" AND ");
        }
        params.push(v);
        let _ = write!(sql, "{} = ${}", quote_ident(name), params.len());
    }
}

fn soft_condition<T: Entity>(sql: &mut String, deleted: Deleted) {
    if let Some(col) = T::BEHAVIOR.soft_delete {
        match deleted {
            Deleted::Exclude => {
                let _ = write!(sql, " AND {} IS NULL", quote_ident(col));
            }
            Deleted::Only => {
                let _ = write!(sql, " AND {} IS NOT NULL", quote_ident(col));
            }
            Deleted::Include => {}
        }
    }
}

/// `SELECT <columns> FROM t WHERE <key>` (skipping soft-deleted rows unless `deleted` says
/// otherwise).
pub fn select_by_key<T: Entity>(key: &T::Key, deleted: Deleted) -> SqlQuery {
    let meta = T::meta();
    let mut sql = String::with_capacity(64 + 16 * meta.columns.len());
    sql.push_str("SELECT ");
    push_columns(&mut sql, meta);
    sql.push_str(" FROM ");
    sql.push_str(&meta.qualified_name());
    let mut params = Vec::new();
    where_key::<T>(&mut sql, key, &mut params);
    soft_condition::<T>(&mut sql, deleted);
    SqlQuery { sql, params }
}

/// The columns an insert writes: the record's, plus the managed timestamps it does not set.
fn insert_columns<T: Entity>(rows: &[RecordWrite]) -> (Vec<usize>, Vec<usize>) {
    let meta = T::meta();
    let mut cols: Vec<usize> = Vec::new();
    for row in rows {
        for (i, _) in row {
            if !cols.contains(i) {
                cols.push(*i);
            }
        }
    }
    cols.sort_unstable();
    let mut now = Vec::new();
    for ts in [T::BEHAVIOR.created_at, T::BEHAVIOR.updated_at]
        .into_iter()
        .flatten()
    {
        let i = index_of(meta, ts);
        if !cols.contains(&i) {
            now.push(i);
        }
    }
    (cols, now)
}

fn values_row(
    sql: &mut String,
    cols: &[usize],
    now: &[usize],
    managed: &[usize],
    row: &RecordWrite,
    params: &mut Vec<BoundValue>,
) {
    sql.push('(');
    let mut first = true;
    for c in cols {
        if !first {
            sql.push_str(", ");
        }
        first = false;
        match row.iter().find(|(i, _)| i == c) {
            Some((_, v)) => {
                params.push(v.clone());
                let _ = write!(sql, "${}", params.len());
            }
            // A managed timestamp another row of the batch sets is `now()` in this one.
            None if managed.contains(c) => sql.push_str("now()"),
            None => sql.push_str("DEFAULT"),
        }
    }
    for _ in now {
        if !first {
            sql.push_str(", ");
        }
        first = false;
        sql.push_str("now()");
    }
    sql.push(')');
}

/// The indexes of the managed timestamp columns.
fn managed<T: Entity>() -> Vec<usize> {
    [T::BEHAVIOR.created_at, T::BEHAVIOR.updated_at]
        .into_iter()
        .flatten()
        .map(|c| index_of(T::meta(), c))
        .collect()
}

/// The alias the target of an upsert gets (its `DO UPDATE … WHERE` names it).
const TARGET: &str = "\"lg_target\"";

fn insert_head<T: Entity>(cols: &[usize], now: &[usize], alias: bool) -> String {
    let meta = T::meta();
    let mut sql = String::with_capacity(128);
    sql.push_str("INSERT INTO ");
    sql.push_str(&meta.qualified_name());
    if alias {
        sql.push_str(" AS ");
        sql.push_str(TARGET);
    }
    if cols.is_empty() && now.is_empty() {
        return sql;
    }
    sql.push_str(" (");
    for (n, i) in cols.iter().chain(now).enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&quote_ident(meta.columns[*i].name));
    }
    sql.push(')');
    // An `identity = "always"` column given a value (an upsert of a loaded row) needs this.
    if cols
        .iter()
        .any(|i| meta.columns[*i].identity == Some(crate::meta::Identity::Always))
    {
        sql.push_str(" OVERRIDING SYSTEM VALUE");
    }
    sql.push_str(" VALUES ");
    sql
}

fn returning<T: Entity>(sql: &mut String) {
    sql.push_str(" RETURNING ");
    push_columns(sql, T::meta());
}

/// `INSERT INTO t (<set columns>) VALUES (…) RETURNING <columns>`; unset columns take their
/// defaults, and the managed timestamps `now()` unless set.
pub fn insert_sql<T: Entity>(row: &RecordWrite) -> SqlQuery {
    insert_many_sql::<T>(std::slice::from_ref(row), true)
}

/// One multi-row `INSERT` of `rows` (a column one row sets and another does not is
/// `DEFAULT` in the other), `RETURNING` the rows when `returning`.
pub fn insert_many_sql<T: Entity>(rows: &[RecordWrite], returning_rows: bool) -> SqlQuery {
    insert_rows_sql::<T>(rows, returning_rows, false)
}

fn insert_rows_sql<T: Entity>(rows: &[RecordWrite], returning_rows: bool, alias: bool) -> SqlQuery {
    let (cols, now) = insert_columns::<T>(rows);
    let managed = managed::<T>();
    let mut sql = insert_head::<T>(&cols, &now, alias);
    let mut params = Vec::with_capacity(rows.len() * cols.len());
    if cols.is_empty() && now.is_empty() {
        // No column given in any row: one `DEFAULT VALUES` row each is not expressible in
        // one statement, so every row is `(DEFAULT)` of the first column.
        let first = quote_ident(T::meta().columns[0].name);
        let _ = write!(sql, " ({first}) VALUES ");
        for (n, _) in rows.iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(DEFAULT)");
        }
    } else {
        for (n, row) in rows.iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            values_row(&mut sql, &cols, &now, &managed, row, &mut params);
        }
    }
    if returning_rows {
        returning::<T>(&mut sql);
    }
    SqlQuery { sql, params }
}

/// `UPDATE t SET <set columns> [, updated_at = now()] WHERE <key> RETURNING <columns>`;
/// `None` when nothing is set (nothing to send).
pub fn update_sql<T: Entity>(key: &T::Key, changes: &RecordWrite) -> Option<SqlQuery> {
    if changes.is_empty() {
        return None;
    }
    let meta = T::meta();
    let mut sql = String::with_capacity(128);
    sql.push_str("UPDATE ");
    sql.push_str(&meta.qualified_name());
    sql.push_str(" SET ");
    let mut params = Vec::with_capacity(changes.len() + meta.primary_key.len());
    for (n, (i, v)) in changes.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        params.push(v.clone());
        let _ = write!(
            sql,
            "{} = ${}",
            quote_ident(meta.columns[*i].name),
            params.len()
        );
    }
    if let Some(ts) = T::BEHAVIOR.updated_at {
        let i = index_of(meta, ts);
        if !changes.iter().any(|(c, _)| *c == i) {
            let _ = write!(sql, ", {} = now()", quote_ident(ts));
        }
    }
    where_key::<T>(&mut sql, key, &mut params);
    soft_condition::<T>(&mut sql, Deleted::Exclude);
    returning::<T>(&mut sql);
    Some(SqlQuery { sql, params })
}

/// An atomic upsert: `INSERT … ON CONFLICT (<primary key>) DO UPDATE SET <changed
/// columns> … RETURNING <columns>, (xmax = 0)` — the last column says whether the row was
/// inserted. The insert writes every present field but generated columns; the update only
/// the changed ones (and `updated_at`), and on a soft-deleting table only a row that is not
/// deleted (a deleted one returns no row).
pub fn save_sql<T: Entity>(present: &RecordWrite, changes: &RecordWrite) -> SqlQuery {
    let meta = T::meta();
    let present: RecordWrite = present
        .iter()
        .filter(|(i, _)| meta.columns[*i].generated.is_none())
        .cloned()
        .collect();
    let soft = T::BEHAVIOR.soft_delete;
    let mut q = insert_rows_sql::<T>(std::slice::from_ref(&present), false, soft.is_some());
    q.sql.push_str(" ON CONFLICT (");
    for (n, k) in meta.primary_key.iter().enumerate() {
        if n > 0 {
            q.sql.push_str(", ");
        }
        q.sql.push_str(&quote_ident(k));
    }
    q.sql.push_str(") DO UPDATE SET ");
    let mut first = true;
    let mut assign = |sql: &mut String, name: &str, expr: &str| {
        if !first {
            sql.push_str(", ");
        }
        first = false;
        let _ = write!(sql, "{} = {expr}", quote_ident(name));
    };
    let mut changed_any = false;
    for (i, _) in changes {
        let c = &meta.columns[*i];
        if meta.primary_key.contains(&c.name) || c.generated.is_some() {
            continue;
        }
        changed_any = true;
        assign(
            &mut q.sql,
            c.name,
            &format!("EXCLUDED.{}", quote_ident(c.name)),
        );
    }
    if changed_any && let Some(ts) = T::BEHAVIOR.updated_at {
        let i = index_of(meta, ts);
        if !changes.iter().any(|(c, _)| *c == i) {
            assign(&mut q.sql, ts, "now()");
        }
    }
    if !changed_any {
        // Nothing to change: a no-op assignment still returns the existing row.
        let k = meta.primary_key[0];
        assign(&mut q.sql, k, &format!("EXCLUDED.{}", quote_ident(k)));
    }
    if let Some(col) = soft {
        let _ = write!(q.sql, " WHERE {TARGET}.{} IS NULL", quote_ident(col));
    }
    returning::<T>(&mut q.sql);
    q.sql.push_str(", (xmax = 0)");
    q
}

/// Deletes the row with `key`: on a soft-deleting table, unless `force`, sets the
/// soft-delete column to `now()` (if not already deleted); otherwise `DELETE`.
pub fn delete_by_key_sql<T: Entity>(key: &T::Key, force: bool) -> SqlQuery {
    let meta = T::meta();
    let mut sql = String::with_capacity(96);
    let mut params = Vec::new();
    match T::BEHAVIOR.soft_delete {
        Some(col) if !force => {
            let _ = write!(
                sql,
                "UPDATE {} SET {} = now()",
                meta.qualified_name(),
                quote_ident(col)
            );
            where_key::<T>(&mut sql, key, &mut params);
            soft_condition::<T>(&mut sql, Deleted::Exclude);
        }
        _ => {
            let _ = write!(sql, "DELETE FROM {}", meta.qualified_name());
            where_key::<T>(&mut sql, key, &mut params);
        }
    }
    SqlQuery { sql, params }
}

/// Undoes a soft delete of the row with `key`, returning it; `None` on a table without soft
/// deletes.
pub fn restore_sql<T: Entity>(key: &T::Key) -> Option<SqlQuery> {
    let col = T::BEHAVIOR.soft_delete?;
    let meta = T::meta();
    let mut sql = format!(
        "UPDATE {} SET {} = NULL",
        meta.qualified_name(),
        quote_ident(col)
    );
    let mut params = Vec::new();
    where_key::<T>(&mut sql, key, &mut params);
    soft_condition::<T>(&mut sql, Deleted::Only);
    returning::<T>(&mut sql);
    Some(SqlQuery { sql, params })
}

fn now() -> Built {
    Built::new(Node::Text("now()".into()))
}

/// `UPDATE` of every row a filter selects: `users::Entity::update_many().set(…).filter(…)`.
/// Soft-deleted rows are left alone unless [`with_deleted`](UpdateMany::with_deleted);
/// `updated_at` is set to `now()` unless assigned.
pub struct UpdateMany<T: Entity> {
    stmt: UpdateStatement<T>,
    deleted: Deleted,
}

impl<T: Entity> Default for UpdateMany<T> {
    fn default() -> Self {
        UpdateMany::new()
    }
}

impl<T: Entity> UpdateMany<T> {
    /// An update of every row, with nothing set yet.
    pub fn new() -> Self {
        UpdateMany {
            stmt: update(T::default()),
            deleted: Deleted::Exclude,
        }
    }

    /// `SET column = value, …` (typed as in the query builder's `update`).
    pub fn set<L: AssignmentList<T>, I>(mut self, assignments: L) -> Self
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        self.stmt = self.stmt.set(assignments);
        self
    }

    /// Adds a `WHERE` condition.
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.stmt = self.stmt.filter(condition);
        self
    }

    /// Also updates soft-deleted rows.
    pub fn with_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// The SQL (an update with nothing set changes no row).
    pub fn to_sql(mut self) -> SqlQuery {
        let meta = T::meta();
        if !self.stmt.sets_nothing()
            && let Some(ts) = T::BEHAVIOR.updated_at
            && !self.stmt.sets_column(ts)
        {
            self.stmt.push_raw_set(column_name(meta, ts), now());
        }
        if let (Some(col), Deleted::Exclude) = (T::BEHAVIOR.soft_delete, self.deleted) {
            self.stmt
                .push_raw_filter(Built::col(meta, column_name(meta, col)).null_test(true));
        }
        self.stmt.to_sql()
    }
}

/// `DELETE` of every row a filter selects: `users::Entity::delete_many().filter(…)`. On a
/// soft-deleting table this marks the rows deleted, unless [`force`](DeleteMany::force).
pub struct DeleteMany<T: Entity> {
    stmt: DeleteStatement<T>,
    force: bool,
}

impl<T: Entity> Default for DeleteMany<T> {
    fn default() -> Self {
        DeleteMany::new()
    }
}

impl<T: Entity> DeleteMany<T> {
    /// A delete of every row.
    pub fn new() -> Self {
        DeleteMany {
            stmt: delete(T::default()),
            force: false,
        }
    }

    /// Adds a `WHERE` condition.
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.stmt = self.stmt.filter(condition);
        self
    }

    /// Really deletes, even on a soft-deleting table.
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }

    /// The SQL.
    pub fn to_sql(mut self) -> SqlQuery {
        let meta = T::meta();
        match T::BEHAVIOR.soft_delete {
            Some(col) if !self.force => {
                let col = column_name(meta, col);
                let mut stmt: UpdateStatement<T> = update(T::default());
                stmt.push_raw_set(col, now());
                for f in self.stmt.take_filters() {
                    stmt.push_raw_filter(f);
                }
                stmt.push_raw_filter(Built::col(meta, col).null_test(true));
                stmt.to_sql()
            }
            _ => self.stmt.to_sql(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    crate::table! {
        #[timestamps(created_at, updated_at)]
        #[soft_delete(deleted_at)]
        app.notes (id) {
            #[identity = "always"]
            id -> Int8,
            #[sql_name = "type"]
            kind -> Text,
            body -> Nullable<Text>,
            #[generated = "length(kind)"]
            kind_len -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            deleted_at -> Nullable<Timestamptz>,
        }
    }

    fn v(x: &'static str) -> BoundValue {
        Arc::new(x.to_string())
    }

    #[test]
    fn insert_sets_managed_timestamps_and_returns_every_column() {
        let q = insert_sql::<notes::table>(&vec![(1, v("memo"))]);
        assert_eq!(
            q.sql,
            r#"INSERT INTO "app"."notes" ("type", "created_at", "updated_at") VALUES ($1, now(), now()) RETURNING "id", "type", "body", "kind_len", "created_at", "updated_at", "deleted_at""#
        );
        assert_eq!(q.params.len(), 1);
    }

    #[test]
    fn a_batch_fills_what_other_rows_set_with_default_or_now() {
        let q = insert_many_sql::<notes::table>(
            &[
                vec![(1, v("a")), (2, v("b")), (4, v("t"))],
                vec![(1, v("c"))],
            ],
            false,
        );
        assert_eq!(
            q.sql,
            r#"INSERT INTO "app"."notes" ("type", "body", "created_at", "updated_at") VALUES ($1, $2, $3, now()), ($4, DEFAULT, now(), now())"#
        );
    }

    #[test]
    fn update_by_key_skips_deleted_rows_and_touches_updated_at() {
        let q = update_sql::<notes::table>(&7, &vec![(2, v("x"))]).unwrap();
        assert_eq!(
            q.sql,
            r#"UPDATE "app"."notes" SET "body" = $1, "updated_at" = now() WHERE "id" = $2 AND "deleted_at" IS NULL RETURNING "id", "type", "body", "kind_len", "created_at", "updated_at", "deleted_at""#
        );
        assert!(update_sql::<notes::table>(&7, &Vec::new()).is_none());
    }

    #[test]
    fn save_is_one_upsert_that_leaves_generated_and_deleted_rows_alone() {
        let present = vec![
            (0, Arc::new(7_i64) as BoundValue),
            (1, v("k")),
            (3, Arc::new(1_i32) as BoundValue),
        ];
        let q = save_sql::<notes::table>(&present, &vec![(1, v("k"))]);
        assert_eq!(
            q.sql,
            r#"INSERT INTO "app"."notes" AS "lg_target" ("id", "type", "created_at", "updated_at") OVERRIDING SYSTEM VALUE VALUES ($1, $2, now(), now()) ON CONFLICT ("id") DO UPDATE SET "type" = EXCLUDED."type", "updated_at" = now() WHERE "lg_target"."deleted_at" IS NULL RETURNING "id", "type", "body", "kind_len", "created_at", "updated_at", "deleted_at", (xmax = 0)"#
        );
    }

    #[test]
    fn delete_marks_unless_forced_and_restore_unmarks() {
        assert_eq!(
            delete_by_key_sql::<notes::table>(&7, false).sql,
            r#"UPDATE "app"."notes" SET "deleted_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL"#
        );
        assert_eq!(
            delete_by_key_sql::<notes::table>(&7, true).sql,
            r#"DELETE FROM "app"."notes" WHERE "id" = $1"#
        );
        assert!(
            restore_sql::<notes::table>(&7)
                .unwrap()
                .sql
                .starts_with(r#"UPDATE "app"."notes" SET "deleted_at" = NULL WHERE "id" = $1 AND "deleted_at" IS NOT NULL RETURNING"#)
        );
    }
}
