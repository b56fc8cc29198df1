//! The diff engine: two catalogs (the database as it is, and as the declarations want it) in,
//! an ordered, lock-aware plan of steps out, each with its up and down SQL and its hazards.
//!
//! Both catalogs come from `pg_catalog` (the desired one by applying the declarations to a
//! scratch database), so PostgreSQL's own normalization is on both sides and a plan
//! converges: applying it and diffing again gives nothing.
//!
//! Plans are lock-aware, after pg-schema-diff:
//! - indexes on existing tables are built and dropped `CONCURRENTLY`, in the online phase,
//!   which runs outside a transaction;
//! - checks and foreign keys on existing tables are added `NOT VALID` and validated in the
//!   online phase;
//! - `SET NOT NULL` goes through a validated check, so the final step only reads it;
//! - a type change alters the column in place with `USING`, never drop + add;
//! - renames happen only where declared (`renamed_from`); names PostgreSQL derived from the
//!   old table name (`old_pkey`, `old_email_key`, …) follow;
//! - dropping a table or a column, or narrowing a type, is refused without
//!   `allow_destructive`, and named.
//!
//! A plan has two phases, written as two migrations: [`Phase::Transactional`] (one
//! transaction) and [`Phase::Online`] (no transaction: `CREATE INDEX CONCURRENTLY`,
//! validations, `SET NOT NULL`).

use std::fmt;

use crate::catalog::{Catalog, Column, EnumType, ForeignKey, Index, Table};
use crate::meta::Identity;
use crate::quote_ident as qi;

/// What a step risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hazard {
    /// Takes an `ACCESS EXCLUSIVE` lock: blocks reads and writes of the table meanwhile.
    AccessExclusiveLock,
    /// Rewrites the table (and its indexes): time and disk grow with its size.
    TableRewrite,
    /// Deletes data (a table, a column, or values a narrower type cannot hold).
    DeletesData,
    /// Builds an index: time grows with the table's size.
    IndexBuild,
    /// Scans the table to validate a constraint (without blocking writes).
    ValidationScan,
    /// Runs outside a transaction: a failure part-way leaves the steps before it applied.
    NonTransactional,
    /// Cannot be undone exactly by the down migration.
    Irreversible,
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hazard::AccessExclusiveLock => "ACCESS EXCLUSIVE lock",
            Hazard::TableRewrite => "table rewrite",
            Hazard::DeletesData => "deletes data",
            Hazard::IndexBuild => "index build",
            Hazard::ValidationScan => "validation scan",
            Hazard::NonTransactional => "non-transactional",
            Hazard::Irreversible => "irreversible",
        })
    }
}

/// Where a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// In the transactional migration.
    Transactional,
    /// In the online migration, which runs outside a transaction, after the first.
    Online,
}

/// One change, with its SQL both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does, for people: `add column shop.orders.note (text)`.
    pub summary: String,
    /// Its phase.
    pub phase: Phase,
    /// Statements to apply it, in order.
    pub up: Vec<String>,
    /// Statements to undo it, in order.
    pub down: Vec<String>,
    /// What it risks.
    pub hazards: Vec<Hazard>,
    /// Whether it deletes data (needs `allow_destructive`).
    pub destructive: bool,
}

/// An ordered plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, in the order they apply (transactional ones first).
    pub steps: Vec<Step>,
}

/// A migration's scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripts {
    /// `up.sql`.
    pub up: String,
    /// `down.sql`.
    pub down: String,
}

impl Plan {
    /// No change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The scripts of one phase, or `None` when it has no step. The up script applies the
    /// phase's steps in order; the down script undoes them in reverse.
    pub fn scripts(&self, phase: Phase) -> Option<Scripts> {
        let steps: Vec<&Step> = self.steps.iter().filter(|s| s.phase == phase).collect();
        if steps.is_empty() {
            return None;
        }
        let mut up = String::new();
        let mut down = String::new();
        if phase == Phase::Online {
            up.push_str("-- lifeguard:no-transaction\n");
            down.push_str("-- lifeguard:no-transaction\n");
        }
        for s in &steps {
            up.push_str(&format!("-- {}\n", s.summary));
            for stmt in &s.up {
                up.push_str(stmt);
                up.push_str(";\n");
            }
        }
        for s in steps.iter().rev() {
            down.push_str(&format!("-- undo: {}\n", s.summary));
            for stmt in &s.down {
                down.push_str(stmt);
                down.push_str(";\n");
            }
        }
        Some(Scripts { up, down })
    }
}

/// A declared rename of a table (`#[renamed_from]` on the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRename {
    /// The schema.
    pub schema: String,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
}

/// A declared rename of a column (`#[renamed_from]` on the column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    /// The table's schema.
    pub schema: String,
    /// The table (its new name, when the table is renamed too).
    pub table: String,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
}

/// How to diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Allow steps that delete data.
    pub allow_destructive: bool,
    /// Declared table renames.
    pub table_renames: Vec<TableRename>,
    /// Declared column renames.
    pub column_renames: Vec<ColumnRename>,
}

/// The plan would delete data and `allow_destructive` is not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the change deletes data: {}; review it and pass --allow-destructive to write it \
     (or declare a rename with #[renamed_from = \"old\"] if this is one)",
    .steps.join("; ")
)]
pub struct DestructiveChange {
    /// The destructive steps' summaries.
    pub steps: Vec<String>,
}

fn qt(schema: &str, name: &str) -> String {
    format!("{}.{}", qi(schema), qi(name))
}

/// The column as `CREATE TABLE` / `ADD COLUMN` write it.
fn column_sql(c: &Column) -> String {
    let mut s = format!("{} {}", qi(&c.name), c.type_sql);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    match c.identity {
        Some(Identity::Always) => s.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        None => {}
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    s
}

fn constraint_sql(name: &str, definition: &str) -> String {
    format!("CONSTRAINT {} {}", qi(name), definition)
}

/// `CREATE TABLE` with columns, primary key, uniques and checks (foreign keys and indexes are
/// separate statements).
fn create_table_sql(t: &Table) -> String {
    let mut parts: Vec<String> = t.columns.iter().map(column_sql).collect();
    if let Some(pk) = &t.primary_key {
        let cols: Vec<String> = pk.columns.iter().map(|c| qi(c)).collect();
        parts.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            qi(&pk.name),
            cols.join(", ")
        ));
    }
    for u in &t.uniques {
        parts.push(constraint_sql(&u.name, &u.definition));
    }
    for c in &t.checks {
        parts.push(constraint_sql(&c.name, &check_def(&c.expression)));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        qt(&t.schema, &t.name),
        parts.join(",\n    ")
    )
}

fn check_def(expression: &str) -> String {
    format!("CHECK {expression}")
}

fn comment_sql(what: &str, target: &str, comment: &Option<String>) -> String {
    match comment {
        Some(c) => format!("COMMENT ON {what} {target} IS '{}'", c.replace('\'', "''")),
        None => format!("COMMENT ON {what} {target} IS NULL"),
    }
}

/// `CREATE INDEX` from `pg_get_indexdef`, made concurrent when asked.
fn index_sql(ix: &Index, concurrently: bool) -> String {
    let def = ix.definition.clone();
    if !concurrently {
        return def;
    }
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = def.strip_prefix(prefix) {
            return format!("{prefix}CONCURRENTLY {rest}");
        }
    }
    def
}

fn drop_index_sql(schema: &str, ix: &Index, concurrently: bool) -> String {
    format!(
        "DROP INDEX {}IF EXISTS {}",
        if concurrently { "CONCURRENTLY " } else { "" },
        qt(schema, &ix.name)
    )
}

fn add_fk_sql(t: &Table, fk: &ForeignKey, not_valid: bool) -> String {
    let def = fk.definition.trim_end_matches(" NOT VALID");
    format!(
        "ALTER TABLE {} ADD {}{}",
        qt(&t.schema, &t.name),
        constraint_sql(&fk.name, def),
        if not_valid { " NOT VALID" } else { "" }
    )
}

fn drop_constraint_sql(t: &Table, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        qt(&t.schema, &t.name),
        qi(name)
    )
}

/// Whether changing a column's type from `old` to `new` keeps every value (a known widening).
fn widens(old: &str, new: &str) -> bool {
    fn varchar_len(t: &str) -> Option<Option<u32>> {
        if t == "character varying" {
            return Some(None);
        }
        t.strip_prefix("character varying(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
            .map(Some)
    }
    if new == "text" && (old == "text" || varchar_len(old).is_some()) {
        return true;
    }
    if let (Some(o), Some(n)) = (varchar_len(old), varchar_len(new)) {
        return match (o, n) {
            (_, None) => true,
            (Some(o), Some(n)) => n >= o,
            (None, Some(_)) => false,
        };
    }
    let ints = ["smallint", "integer", "bigint"];
    if let (Some(o), Some(n)) = (
        ints.iter().position(|t| *t == old),
        ints.iter().position(|t| *t == new),
    ) {
        return n >= o;
    }
    if old == "real" && new == "double precision" {
        return true;
    }
    if new == "numeric" && (ints.contains(&old) || old.starts_with("numeric")) {
        return true;
    }
    false
}

struct Planner<'a> {
    desired: &'a Catalog,
    steps: Vec<Step>,
}

impl Planner<'_> {
    fn step(
        &mut self,
        phase: Phase,
        summary: String,
        up: Vec<String>,
        down: Vec<String>,
        hazards: Vec<Hazard>,
    ) {
        let destructive = hazards.contains(&Hazard::DeletesData);
        self.steps.push(Step {
            summary,
            phase,
            up,
            down,
            hazards,
            destructive,
        });
    }
}

/// The plan that brings `current` to `desired`. Fails, writing nothing, when the plan would
/// delete data and `allow_destructive` is not set.
pub fn diff(
    current: &Catalog,
    desired: &Catalog,
    options: &DiffOptions,
) -> Result<Plan, DestructiveChange> {
    let mut cur = current.clone();
    let mut p = Planner {
        desired,
        steps: Vec::new(),
    };
    renames(&mut cur, &mut p, options);
    cur.sort();

    // Schemas and extensions.
    for s in &desired.schemas {
        if !cur.schemas.contains(s) {
            p.step(
                Phase::Transactional,
                format!("create schema {s}"),
                vec![format!("CREATE SCHEMA {}", qi(s))],
                vec![format!("DROP SCHEMA {}", qi(s))],
                vec![],
            );
        }
    }
    for e in &desired.extensions {
        if cur.extension(&e.name).is_none() {
            p.step(
                Phase::Transactional,
                format!("create extension {}", e.name),
                vec![format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                    qi(&e.name),
                    qi(&e.schema)
                )],
                vec![format!("DROP EXTENSION IF EXISTS {}", qi(&e.name))],
                vec![],
            );
        }
    }

    // Enum types: new ones, and labels added.
    for e in &desired.enums {
        match cur.enum_type(&e.schema, &e.name) {
            None => p.step(
                Phase::Transactional,
                format!("create enum {}.{}", e.schema, e.name),
                vec![create_enum_sql(e)],
                vec![format!("DROP TYPE {}", qt(&e.schema, &e.name))],
                vec![],
            ),
            Some(old) if old.labels != e.labels => enum_change(&mut p, &cur, old, e),
            Some(_) => {}
        }
    }

    // Foreign keys that go away or change are dropped before anything they depend on.
    for t in &cur.tables {
        let dt = desired.table(&t.schema, &t.name);
        for fk in &t.foreign_keys {
            let keep = dt
                .and_then(|dt| dt.foreign_key(&fk.name))
                .is_some_and(|d| same_fk(d, fk));
            if !keep {
                p.step(
                    Phase::Transactional,
                    format!("drop foreign key {} on {}.{}", fk.name, t.schema, t.name),
                    vec![drop_constraint_sql(t, &fk.name)],
                    vec![add_fk_sql(t, fk, false)],
                    vec![],
                );
            }
        }
    }

    // New tables, with their indexes and comments (an empty table needs no online build).
    for t in &desired.tables {
        if cur.table(&t.schema, &t.name).is_none() {
            let mut up = vec![create_table_sql(t)];
            for ix in t.indexes.iter().filter(|i| !i.is_constraint_backed) {
                up.push(index_sql(ix, false));
            }
            up.extend(comments_sql(t));
            p.step(
                Phase::Transactional,
                format!("create table {}.{}", t.schema, t.name),
                up,
                vec![format!("DROP TABLE {}", qt(&t.schema, &t.name))],
                vec![],
            );
        }
    }

    // Changes inside tables present on both sides.
    for dt in &desired.tables {
        if let Some(ct) = cur.table(&dt.schema, &dt.name) {
            table_changes(&mut p, ct, dt);
        }
    }

    // Foreign keys that appear: on a new table added valid (nothing to scan), else NOT VALID
    // now and validated online.
    for dt in &desired.tables {
        let ct = cur.table(&dt.schema, &dt.name);
        for fk in &dt.foreign_keys {
            let existing = ct.and_then(|ct| ct.foreign_key(&fk.name));
            if existing.is_some_and(|e| same_fk(e, fk)) {
                continue;
            }
            let existing_table = ct.is_some();
            p.step(
                Phase::Transactional,
                format!("add foreign key {} on {}.{}", fk.name, dt.schema, dt.name),
                vec![add_fk_sql(dt, fk, existing_table)],
                vec![drop_constraint_sql(dt, &fk.name)],
                vec![],
            );
            if existing_table {
                p.step(
                    Phase::Online,
                    format!("validate foreign key {}", fk.name),
                    vec![format!(
                        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                        qt(&dt.schema, &dt.name),
                        qi(&fk.name)
                    )],
                    vec![],
                    vec![Hazard::ValidationScan, Hazard::NonTransactional],
                );
            }
        }
    }

    // Tables that go away.
    for t in &cur.tables {
        if desired.table(&t.schema, &t.name).is_none() {
            let mut down = vec![create_table_sql(t)];
            for ix in t.indexes.iter().filter(|i| !i.is_constraint_backed) {
                down.push(index_sql(ix, false));
            }
            down.extend(comments_sql(t));
            p.step(
                Phase::Transactional,
                format!("drop table {}.{}", t.schema, t.name),
                vec![format!("DROP TABLE {}", qt(&t.schema, &t.name))],
                down,
                vec![Hazard::DeletesData, Hazard::AccessExclusiveLock],
            );
        }
    }

    // Enum types and sequences that go away.
    for e in &cur.enums {
        if desired.enum_type(&e.schema, &e.name).is_none() {
            p.step(
                Phase::Transactional,
                format!("drop enum {}.{}", e.schema, e.name),
                vec![format!("DROP TYPE {}", qt(&e.schema, &e.name))],
                vec![create_enum_sql(e)],
                vec![],
            );
        }
    }

    let destructive: Vec<String> = p
        .steps
        .iter()
        .filter(|s| s.destructive)
        .map(|s| s.summary.clone())
        .collect();
    if !destructive.is_empty() && !options.allow_destructive {
        return Err(DestructiveChange { steps: destructive });
    }
    // Transactional steps first, each phase in planning order.
    p.steps.sort_by_key(|s| s.phase);
    Ok(Plan { steps: p.steps })
}

fn create_enum_sql(e: &EnumType) -> String {
    let labels: Vec<String> = e
        .labels
        .iter()
        .map(|l| format!("'{}'", l.replace('\'', "''")))
        .collect();
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        qt(&e.schema, &e.name),
        labels.join(", ")
    )
}

/// Labels added to an enum (`ADD VALUE`); anything else (removal, reordering) recreates the
/// type and casts its columns.
fn enum_change(p: &mut Planner<'_>, cur: &Catalog, old: &EnumType, new: &EnumType) {
    let name = qt(&old.schema, &old.name);
    let appended = old.labels.iter().all(|l| new.labels.contains(l))
        && new
            .labels
            .iter()
            .filter(|l| old.labels.contains(l))
            .eq(old.labels.iter());
    let recreate = |from: &EnumType, to: &EnumType| -> Vec<String> {
        let tmp = qt(&from.schema, &format!("{}__lifeguard_old", from.name));
        let mut v = vec![
            format!(
                "ALTER TYPE {name} RENAME TO {}",
                qi(&format!("{}__lifeguard_old", from.name))
            ),
            create_enum_sql(to),
        ];
        for t in &cur.tables {
            for c in &t.columns {
                if c.type_sql.trim_end_matches("[]") == from.name
                    || c.type_sql.trim_end_matches("[]") == format!("{}.{}", from.schema, from.name)
                {
                    let table = qt(&t.schema, &t.name);
                    if c.default.is_some() {
                        v.push(format!(
                            "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT",
                            qi(&c.name)
                        ));
                    }
                    v.push(format!(
                        "ALTER TABLE {table} ALTER COLUMN {col} TYPE {name}{arr} USING {col}::text{arr}::{name}{arr}",
                        col = qi(&c.name),
                        arr = if c.type_sql.ends_with("[]") { "[]" } else { "" },
                    ));
                    if let Some(d) = &c.default {
                        v.push(format!(
                            "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {d}",
                            qi(&c.name)
                        ));
                    }
                }
            }
        }
        v.push(format!("DROP TYPE {tmp}"));
        v
    };
    if appended {
        let mut up = Vec::new();
        for (i, l) in new.labels.iter().enumerate() {
            if old.labels.contains(l) {
                continue;
            }
            let lit = format!("'{}'", l.replace('\'', "''"));
            // Place it where the declaration does: after its predecessor.
            match i.checked_sub(1).map(|j| &new.labels[j]) {
                Some(prev) => up.push(format!(
                    "ALTER TYPE {name} ADD VALUE {lit} AFTER '{}'",
                    prev.replace('\'', "''")
                )),
                None => up.push(format!(
                    "ALTER TYPE {name} ADD VALUE {lit} BEFORE '{}'",
                    old.labels[0].replace('\'', "''")
                )),
            }
        }
        p.step(
            Phase::Transactional,
            format!(
                "add labels to enum {}.{}: {}",
                old.schema,
                old.name,
                new.labels
                    .iter()
                    .filter(|l| !old.labels.contains(l))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            up,
            recreate(new, old),
            vec![],
        );
    } else {
        p.step(
            Phase::Transactional,
            format!("recreate enum {}.{} with new labels", old.schema, old.name),
            recreate(old, new),
            recreate(new, old),
            vec![
                Hazard::TableRewrite,
                Hazard::AccessExclusiveLock,
                Hazard::DeletesData,
            ],
        );
    }
}

fn same_fk(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns
        && a.ref_schema == b.ref_schema
        && a.ref_table == b.ref_table
        && a.ref_columns == b.ref_columns
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
        && a.deferrable == b.deferrable
}

fn same_index(a: &Index, b: &Index) -> bool {
    a.unique == b.unique
        && a.method == b.method
        && a.keys == b.keys
        && a.include == b.include
        && a.predicate == b.predicate
}

fn comments_sql(t: &Table) -> Vec<String> {
    let mut v = Vec::new();
    let table = qt(&t.schema, &t.name);
    if t.comment.is_some() {
        v.push(comment_sql("TABLE", &table, &t.comment));
    }
    for c in &t.columns {
        if c.comment.is_some() {
            v.push(comment_sql(
                "COLUMN",
                &format!("{table}.{}", qi(&c.name)),
                &c.comment,
            ));
        }
    }
    v
}

/// Applies the declared renames to `cur` (virtually) and plans them; names derived from an
/// old table name follow it.
fn renames(cur: &mut Catalog, p: &mut Planner<'_>, options: &DiffOptions) {
    for r in &options.table_renames {
        let present_old = cur.table(&r.schema, &r.from).is_some();
        let present_new = cur.table(&r.schema, &r.to).is_some();
        if !present_old || present_new {
            continue;
        }
        let desired = p.desired.table(&r.schema, &r.to).cloned();
        let Some(t) = cur
            .tables
            .iter_mut()
            .find(|t| t.schema == r.schema && t.name == r.from)
        else {
            continue;
        };
        let mut up = vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            qt(&r.schema, &r.from),
            qi(&r.to)
        )];
        let mut down = Vec::new();
        t.name = r.to.clone();
        let table = qt(&r.schema, &r.to);
        let prefix = format!("{}_", r.from);
        let follow = |name: &str| -> Option<String> {
            let rest = name.strip_prefix(&prefix)?;
            let new = format!("{}_{rest}", r.to);
            let d = desired.as_ref()?;
            let exists = d.primary_key.as_ref().is_some_and(|pk| pk.name == new)
                || d.unique(&new).is_some()
                || d.check(&new).is_some()
                || d.foreign_key(&new).is_some()
                || d.index(&new).is_some();
            exists.then_some(new)
        };
        // Constraints (renaming a PK or unique renames its index too).
        let mut constraint_renames = Vec::new();
        if let Some(pk) = &mut t.primary_key
            && let Some(new) = follow(&pk.name)
        {
            constraint_renames.push((pk.name.clone(), new.clone()));
            pk.name = new;
        }
        for u in &mut t.uniques {
            if let Some(new) = follow(&u.name) {
                constraint_renames.push((u.name.clone(), new.clone()));
                u.name = new;
            }
        }
        for c in &mut t.checks {
            if let Some(new) = follow(&c.name) {
                constraint_renames.push((c.name.clone(), new.clone()));
                c.name = new;
            }
        }
        for f in &mut t.foreign_keys {
            if let Some(new) = follow(&f.name) {
                constraint_renames.push((f.name.clone(), new.clone()));
                f.name = new;
            }
        }
        for (old, new) in &constraint_renames {
            up.push(format!(
                "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
                qi(old),
                qi(new)
            ));
            down.push(format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                qt(&r.schema, &r.from),
                qi(new),
                qi(old)
            ));
        }
        for ix in &mut t.indexes {
            let backed = constraint_renames.iter().find(|(o, _)| *o == ix.name);
            if let Some((_, new)) = backed {
                ix.name = new.clone();
                continue;
            }
            if let Some(new) = follow(&ix.name) {
                up.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    qt(&r.schema, &ix.name),
                    qi(&new)
                ));
                down.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    qt(&r.schema, &new),
                    qi(&ix.name)
                ));
                ix.name = new;
            }
        }
        // Index definitions name the table: follow the rename.
        for ix in &mut t.indexes {
            ix.definition = ix.definition.replace(
                &format!(" ON {} ", qt_plain(&r.schema, &r.from)),
                &format!(" ON {} ", qt_plain(&r.schema, &r.to)),
            );
        }
        down.push(format!("ALTER TABLE {table} RENAME TO {}", qi(&r.from)));
        down.reverse();
        // Undo constraint renames after the table's name is back: reverse order above.
        p.step(
            Phase::Transactional,
            format!("rename table {}.{} to {}", r.schema, r.from, r.to),
            up,
            down,
            vec![Hazard::AccessExclusiveLock],
        );
    }
    for r in &options.column_renames {
        let Some(t) = cur
            .tables
            .iter_mut()
            .find(|t| t.schema == r.schema && t.name == r.table)
        else {
            continue;
        };
        if t.column(&r.from).is_none() || t.column(&r.to).is_some() {
            continue;
        }
        for c in &mut t.columns {
            if c.name == r.from {
                c.name = r.to.clone();
            }
        }
        let rename = |v: &mut Vec<String>| {
            for x in v.iter_mut() {
                if *x == r.from {
                    *x = r.to.clone();
                }
            }
        };
        if let Some(pk) = &mut t.primary_key {
            rename(&mut pk.columns);
        }
        for u in &mut t.uniques {
            rename(&mut u.columns);
        }
        for f in &mut t.foreign_keys {
            rename(&mut f.columns);
        }
        for ix in &mut t.indexes {
            rename(&mut ix.keys);
            rename(&mut ix.include);
        }
        let table = qt(&r.schema, &r.table);
        p.step(
            Phase::Transactional,
            format!(
                "rename column {}.{}.{} to {}",
                r.schema, r.table, r.from, r.to
            ),
            vec![format!(
                "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                qi(&r.from),
                qi(&r.to)
            )],
            vec![format!(
                "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                qi(&r.to),
                qi(&r.from)
            )],
            vec![Hazard::AccessExclusiveLock],
        );
    }
}

/// `schema.name` as `pg_get_indexdef` writes it (quoted only when needed).
fn qt_plain(schema: &str, name: &str) -> String {
    fn plain(s: &str) -> String {
        let simple = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit());
        if simple { s.to_owned() } else { qi(s) }
    }
    format!("{}.{}", plain(schema), plain(name))
}

/// Columns, keys, constraints, indexes and comments of a table on both sides.
fn table_changes(p: &mut Planner<'_>, ct: &Table, dt: &Table) {
    let table = qt(&dt.schema, &dt.name);
    let tname = format!("{}.{}", dt.schema, dt.name);

    // Columns added.
    for c in &dt.columns {
        if ct.column(&c.name).is_none() {
            let mut hazards = Vec::new();
            if c.generated.is_some() || c.default.as_deref().is_some_and(volatile) {
                hazards.push(Hazard::TableRewrite);
                hazards.push(Hazard::AccessExclusiveLock);
            }
            p.step(
                Phase::Transactional,
                format!("add column {tname}.{} ({})", c.name, c.type_sql),
                vec![format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c))],
                vec![format!("ALTER TABLE {table} DROP COLUMN {}", qi(&c.name))],
                hazards,
            );
        }
    }

    // Columns on both sides.
    for c in &dt.columns {
        let Some(old) = ct.column(&c.name) else {
            continue;
        };
        let col = qi(&c.name);
        if old.generated != c.generated {
            // A generated column's expression cannot be altered (PostgreSQL 15): recompute.
            p.step(
                Phase::Transactional,
                format!("recompute generated column {tname}.{}", c.name),
                vec![
                    format!("ALTER TABLE {table} DROP COLUMN {col}"),
                    format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c)),
                ],
                vec![
                    format!("ALTER TABLE {table} DROP COLUMN {col}"),
                    format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(old)),
                ],
                vec![Hazard::TableRewrite, Hazard::AccessExclusiveLock],
            );
            continue;
        }
        if old.type_sql != c.type_sql || old.collation != c.collation {
            let coll = |c: &Column| {
                c.collation
                    .as_ref()
                    .map(|x| format!(" COLLATE {x}"))
                    .unwrap_or_default()
            };
            let mut hazards = vec![Hazard::TableRewrite, Hazard::AccessExclusiveLock];
            if !widens(&old.type_sql, &c.type_sql) && old.type_sql != c.type_sql {
                hazards.push(Hazard::DeletesData);
            }
            p.step(
                Phase::Transactional,
                format!(
                    "change type of {tname}.{} from {} to {}",
                    c.name, old.type_sql, c.type_sql
                ),
                vec![format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE {}{} USING {col}::{}",
                    c.type_sql,
                    coll(c),
                    c.type_sql
                )],
                vec![format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE {}{} USING {col}::{}",
                    old.type_sql,
                    coll(old),
                    old.type_sql
                )],
                hazards,
            );
        }
        if old.default != c.default {
            let set = |d: &Option<String>| match d {
                Some(d) => format!("ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {d}"),
                None => format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"),
            };
            p.step(
                Phase::Transactional,
                format!("change default of {tname}.{}", c.name),
                vec![set(&c.default)],
                vec![set(&old.default)],
                vec![],
            );
        }
        if old.identity != c.identity {
            let to = |i: Option<Identity>, from: Option<Identity>| -> String {
                match (from, i) {
                    (None, Some(Identity::Always)) => format!(
                        "ALTER TABLE {table} ALTER COLUMN {col} ADD GENERATED ALWAYS AS IDENTITY"
                    ),
                    (None, Some(Identity::ByDefault)) => format!(
                        "ALTER TABLE {table} ALTER COLUMN {col} ADD GENERATED BY DEFAULT AS IDENTITY"
                    ),
                    (Some(_), None) => {
                        format!("ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY")
                    }
                    (Some(_), Some(Identity::Always)) => {
                        format!("ALTER TABLE {table} ALTER COLUMN {col} SET GENERATED ALWAYS")
                    }
                    (Some(_), Some(Identity::ByDefault)) => {
                        format!("ALTER TABLE {table} ALTER COLUMN {col} SET GENERATED BY DEFAULT")
                    }
                    (None, None) => String::new(),
                }
            };
            p.step(
                Phase::Transactional,
                format!("change identity of {tname}.{}", c.name),
                vec![to(c.identity, old.identity)],
                vec![to(old.identity, c.identity)],
                vec![],
            );
        }
        if old.nullable && !c.nullable {
            // Online: a NOT VALID check, validated without blocking writes, makes SET NOT
            // NULL a catalog-only change.
            let check = qi(&format!("{}_{}_not_null", dt.name, c.name));
            p.step(
                Phase::Transactional,
                format!("prepare NOT NULL on {tname}.{}", c.name),
                vec![format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID"
                )],
                vec![format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}"
                )],
                vec![],
            );
            p.step(
                Phase::Online,
                format!("set NOT NULL on {tname}.{}", c.name),
                vec![
                    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {check}"),
                    format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
                    format!("ALTER TABLE {table} DROP CONSTRAINT {check}"),
                ],
                vec![format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"
                )],
                vec![Hazard::ValidationScan, Hazard::NonTransactional],
            );
        } else if !old.nullable && c.nullable {
            p.step(
                Phase::Transactional,
                format!("drop NOT NULL on {tname}.{}", c.name),
                vec![format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"
                )],
                vec![format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"
                )],
                vec![],
            );
        }
        if old.comment != c.comment {
            let target = format!("{table}.{col}");
            p.step(
                Phase::Transactional,
                format!("comment on column {tname}.{}", c.name),
                vec![comment_sql("COLUMN", &target, &c.comment)],
                vec![comment_sql("COLUMN", &target, &old.comment)],
                vec![],
            );
        }
    }

    // Primary key.
    if ct.primary_key != dt.primary_key {
        let mut up = Vec::new();
        let mut down = Vec::new();
        if let Some(pk) = &ct.primary_key {
            up.push(drop_constraint_sql(dt, &pk.name));
        }
        if let Some(pk) = &dt.primary_key {
            let cols: Vec<String> = pk.columns.iter().map(|c| qi(c)).collect();
            up.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} PRIMARY KEY ({})",
                qi(&pk.name),
                cols.join(", ")
            ));
            down.push(drop_constraint_sql(dt, &pk.name));
        }
        if let Some(pk) = &ct.primary_key {
            let cols: Vec<String> = pk.columns.iter().map(|c| qi(c)).collect();
            down.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} PRIMARY KEY ({})",
                qi(&pk.name),
                cols.join(", ")
            ));
        }
        p.step(
            Phase::Transactional,
            format!("change primary key of {tname}"),
            up,
            down,
            vec![Hazard::AccessExclusiveLock, Hazard::IndexBuild],
        );
    }

    // Unique constraints.
    for u in &ct.uniques {
        if dt
            .unique(&u.name)
            .is_none_or(|d| d.definition != u.definition)
        {
            p.step(
                Phase::Transactional,
                format!("drop unique {} on {tname}", u.name),
                vec![drop_constraint_sql(dt, &u.name)],
                vec![format!(
                    "ALTER TABLE {table} ADD {}",
                    constraint_sql(&u.name, &u.definition)
                )],
                vec![],
            );
        }
    }
    for u in &dt.uniques {
        if ct
            .unique(&u.name)
            .is_none_or(|c| c.definition != u.definition)
        {
            p.step(
                Phase::Transactional,
                format!("add unique {} on {tname}", u.name),
                vec![format!(
                    "ALTER TABLE {table} ADD {}",
                    constraint_sql(&u.name, &u.definition)
                )],
                vec![drop_constraint_sql(dt, &u.name)],
                vec![Hazard::AccessExclusiveLock, Hazard::IndexBuild],
            );
        }
    }

    // Check constraints: added NOT VALID, validated online.
    for c in &ct.checks {
        if dt
            .check(&c.name)
            .is_none_or(|d| d.expression != c.expression)
        {
            p.step(
                Phase::Transactional,
                format!("drop check {} on {tname}", c.name),
                vec![drop_constraint_sql(dt, &c.name)],
                vec![format!(
                    "ALTER TABLE {table} ADD {}",
                    constraint_sql(&c.name, &check_def(&c.expression))
                )],
                vec![],
            );
        }
    }
    for c in &dt.checks {
        if ct
            .check(&c.name)
            .is_none_or(|o| o.expression != c.expression)
        {
            p.step(
                Phase::Transactional,
                format!("add check {} on {tname}", c.name),
                vec![format!(
                    "ALTER TABLE {table} ADD {} NOT VALID",
                    constraint_sql(&c.name, &check_def(&c.expression))
                )],
                vec![drop_constraint_sql(dt, &c.name)],
                vec![],
            );
            p.step(
                Phase::Online,
                format!("validate check {} on {tname}", c.name),
                vec![format!(
                    "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
                    qi(&c.name)
                )],
                vec![],
                vec![Hazard::ValidationScan, Hazard::NonTransactional],
            );
        }
    }

    // Indexes (not backing a constraint): built and dropped concurrently.
    let plain = |t: &Table| -> Vec<Index> {
        t.indexes
            .iter()
            .filter(|i| !i.is_constraint_backed)
            .cloned()
            .collect()
    };
    let (cur_ix, new_ix) = (plain(ct), plain(dt));
    for ix in &cur_ix {
        if !new_ix
            .iter()
            .any(|n| n.name == ix.name && same_index(n, ix))
        {
            p.step(
                Phase::Online,
                format!("drop index {} on {tname}", ix.name),
                vec![drop_index_sql(&dt.schema, ix, true)],
                vec![index_sql(ix, true)],
                vec![Hazard::NonTransactional],
            );
        }
    }
    for ix in &new_ix {
        if !cur_ix
            .iter()
            .any(|c| c.name == ix.name && same_index(c, ix))
        {
            p.step(
                Phase::Online,
                format!("create index {} on {tname}", ix.name),
                vec![index_sql(ix, true)],
                vec![drop_index_sql(&dt.schema, ix, true)],
                vec![Hazard::IndexBuild, Hazard::NonTransactional],
            );
        }
    }

    // Columns removed (after the constraints and indexes on them).
    for c in &ct.columns {
        if dt.column(&c.name).is_none() {
            p.step(
                Phase::Transactional,
                format!("drop column {tname}.{}", c.name),
                vec![format!("ALTER TABLE {table} DROP COLUMN {}", qi(&c.name))],
                vec![format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c))],
                vec![Hazard::DeletesData, Hazard::AccessExclusiveLock],
            );
        }
    }

    if ct.comment != dt.comment {
        p.step(
            Phase::Transactional,
            format!("comment on table {tname}"),
            vec![comment_sql("TABLE", &table, &dt.comment)],
            vec![comment_sql("TABLE", &table, &ct.comment)],
            vec![],
        );
    }
}

/// A default PostgreSQL evaluates per row when a column is added (so the table is
/// rewritten): anything but a constant or a stable function call.
fn volatile(default: &str) -> bool {
    let d = default.to_ascii_lowercase();
    d.contains("nextval(")
        || d.contains("random(")
        || d.contains("gen_random_uuid(")
        || d.contains("clock_timestamp(")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Check, PrimaryKey};

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            type_sql: ty.into(),
            nullable,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }

    fn table(name: &str, columns: Vec<Column>) -> Table {
        Table {
            schema: "public".into(),
            name: name.into(),
            comment: None,
            columns,
            primary_key: Some(PrimaryKey {
                name: format!("{name}_pkey"),
                columns: vec!["id".into()],
            }),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        }
    }

    fn catalog(tables: Vec<Table>) -> Catalog {
        let mut c = Catalog {
            schemas: vec!["public".into()],
            tables,
            ..Catalog::default()
        };
        c.sort();
        c
    }

    #[test]
    fn same_catalogs_give_an_empty_plan() {
        let a = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        assert!(diff(&a, &a, &DiffOptions::default()).unwrap().is_empty());
    }

    #[test]
    fn drops_need_consent_and_say_what() {
        let a = catalog(vec![table(
            "t",
            vec![col("id", "integer", false), col("x", "text", true)],
        )]);
        let b = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        let err = diff(&a, &b, &DiffOptions::default()).unwrap_err();
        assert_eq!(err.steps, ["drop column public.t.x"]);
        assert!(err.to_string().contains("--allow-destructive"));
        let plan = diff(
            &a,
            &b,
            &DiffOptions {
                allow_destructive: true,
                ..DiffOptions::default()
            },
        )
        .unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            plan.steps[0].down,
            [r#"ALTER TABLE "public"."t" ADD COLUMN "x" text"#]
        );
    }

    #[test]
    fn type_changes_alter_in_place_and_narrowing_is_destructive() {
        let a = catalog(vec![table(
            "t",
            vec![
                col("id", "integer", false),
                col("n", "character varying(20)", true),
            ],
        )]);
        let b = catalog(vec![table(
            "t",
            vec![col("id", "bigint", false), col("n", "text", true)],
        )]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        let up: Vec<&str> = plan
            .steps
            .iter()
            .flat_map(|s| s.up.iter().map(String::as_str))
            .collect();
        assert_eq!(
            up,
            [
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" TYPE bigint USING "id"::bigint"#,
                r#"ALTER TABLE "public"."t" ALTER COLUMN "n" TYPE text USING "n"::text"#,
            ]
        );
        assert!(diff(&b, &a, &DiffOptions::default()).is_err(), "narrowing");
    }

    #[test]
    fn set_not_null_goes_through_a_validated_check_online() {
        let a = catalog(vec![table(
            "t",
            vec![col("id", "integer", false), col("x", "text", true)],
        )]);
        let b = catalog(vec![table(
            "t",
            vec![col("id", "integer", false), col("x", "text", false)],
        )]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        let tx = plan.scripts(Phase::Transactional).unwrap();
        assert!(
            tx.up.contains("CHECK (\"x\" IS NOT NULL) NOT VALID"),
            "{}",
            tx.up
        );
        let online = plan.scripts(Phase::Online).unwrap();
        assert!(online.up.starts_with("-- lifeguard:no-transaction\n"));
        assert!(online.up.contains("VALIDATE CONSTRAINT"), "{}", online.up);
        assert!(online.up.contains("SET NOT NULL"), "{}", online.up);
    }

    #[test]
    fn checks_are_added_not_valid_then_validated() {
        let a = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        let mut t = table("t", vec![col("id", "integer", false)]);
        t.checks.push(Check {
            name: "t_id_check".into(),
            definition: "CHECK ((id > 0))".into(),
            expression: "(id > 0)".into(),
            columns: vec!["id".into()],
            validated: true,
        });
        let b = catalog(vec![t]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(
            plan.steps[0].up,
            [r#"ALTER TABLE "public"."t" ADD CONSTRAINT "t_id_check" CHECK (id > 0) NOT VALID"#]
        );
        assert_eq!(plan.steps[1].phase, Phase::Online);
    }

    #[test]
    fn declared_renames_rename_and_derived_names_follow() {
        let a = catalog(vec![table(
            "old",
            vec![col("id", "integer", false), col("a", "text", true)],
        )]);
        let b = catalog(vec![table(
            "new",
            vec![col("id", "integer", false), col("b", "text", true)],
        )]);
        let opts = DiffOptions {
            table_renames: vec![TableRename {
                schema: "public".into(),
                from: "old".into(),
                to: "new".into(),
            }],
            column_renames: vec![ColumnRename {
                schema: "public".into(),
                table: "new".into(),
                from: "a".into(),
                to: "b".into(),
            }],
            ..DiffOptions::default()
        };
        let plan = diff(&a, &b, &opts).unwrap();
        let up: Vec<&str> = plan
            .steps
            .iter()
            .flat_map(|s| s.up.iter().map(String::as_str))
            .collect();
        assert_eq!(
            up,
            [
                r#"ALTER TABLE "public"."old" RENAME TO "new""#,
                r#"ALTER TABLE "public"."new" RENAME CONSTRAINT "old_pkey" TO "new_pkey""#,
                r#"ALTER TABLE "public"."new" RENAME COLUMN "a" TO "b""#,
            ]
        );
        // Without the declaration it is a drop and a create, refused.
        assert!(diff(&a, &b, &DiffOptions::default()).is_err());
    }

    #[test]
    fn enum_labels_are_appended_in_place() {
        let mut a = catalog(vec![]);
        a.enums.push(EnumType {
            schema: "public".into(),
            name: "mood".into(),
            labels: vec!["sad".into(), "ok".into()],
        });
        let mut b = a.clone();
        b.enums[0].labels = vec!["sad".into(), "meh".into(), "ok".into(), "happy".into()];
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(
            plan.steps[0].up,
            [
                r#"ALTER TYPE "public"."mood" ADD VALUE 'meh' AFTER 'sad'"#,
                r#"ALTER TYPE "public"."mood" ADD VALUE 'happy' AFTER 'ok'"#,
            ]
        );
    }

    #[test]
    fn widening_rules() {
        assert!(widens("character varying(10)", "character varying(20)"));
        assert!(widens("character varying(10)", "text"));
        assert!(widens("integer", "bigint"));
        assert!(!widens("bigint", "integer"));
        assert!(!widens("character varying(20)", "character varying(10)"));
        assert!(!widens("text", "integer"));
    }
}
