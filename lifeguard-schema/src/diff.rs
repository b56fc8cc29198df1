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
//! - renames rewrite what mentions the old name (checks, indexes, foreign keys of other
//!   tables, defaults), and constraint, index and serial-sequence names derived from the old
//!   table or column name follow when the desired side has the derived new name;
//! - an index on a column that goes away is dropped in the transaction, before the column
//!   (so that the down script rebuilds it after the column is back);
//! - an enum label is added with `ADD VALUE`, unless the desired catalog uses it at once (a
//!   default, a check): `ADD VALUE`'s labels are unusable until commit, so the type is
//!   recreated instead;
//! - sequences (a `serial` column's) are created before the tables using them and attached to
//!   their column after; one the desired side lacks is dropped only with its column
//!   (declarations do not declare sequences);
//! - dropping a table or a column, or narrowing a type, is refused without
//!   `allow_destructive`, and named.
//!
//! PostgreSQL appends columns: a column declared between others, or brought back by a down
//! script, lands last (columns are matched by name, so the plan still converges).
//!
//! A plan has two phases, written as two migrations: [`Phase::Transactional`] (one
//! transaction) and [`Phase::Online`] (no transaction: `CREATE INDEX CONCURRENTLY`,
//! validations, `SET NOT NULL`).

use std::fmt;

use crate::catalog::{
    Catalog, Check, Column, EnumType, ForeignKey, Index, OwnedBy, Sequence, Table,
};
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
    s.push_str(&collate_sql(&c.collation));
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

/// `ADD COLUMN`, with the column's comment.
fn add_column_sql(table: &str, c: &Column) -> Vec<String> {
    let mut v = vec![format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c))];
    if c.comment.is_some() {
        v.push(comment_sql(
            "COLUMN",
            &format!("{table}.{}", qi(&c.name)),
            &c.comment,
        ));
    }
    v
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
        parts.push(constraint_sql(&c.name, &check_sql(c)));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        qt(&t.schema, &t.name),
        parts.join(",\n    ")
    )
}

/// `CHECK (…)` around `pg_get_expr`'s rendering, which parenthesizes an operator expression
/// (`(qty > 0)`) but not a bare column or a function call (`active`, `f(x)`).
fn check_def(expression: &str) -> String {
    if fully_parenthesized(expression) {
        format!("CHECK {expression}")
    } else {
        format!("CHECK ({expression})")
    }
}

/// A check constraint's definition, without `NOT VALID`.
fn check_sql(c: &Check) -> String {
    let mut s = check_def(&c.expression);
    if no_inherit(c) {
        s.push_str(" NO INHERIT");
    }
    s
}

fn no_inherit(c: &Check) -> bool {
    c.definition
        .trim_end_matches(" NOT VALID")
        .ends_with(" NO INHERIT")
}

/// Same check, whether validated or not.
fn same_check(a: &Check, b: &Check) -> bool {
    a.expression == b.expression && no_inherit(a) == no_inherit(b)
}

/// Whether `expr` is one parenthesized group: `(a > 0)`, not `(a > 0) AND (b > 0)`.
fn fully_parenthesized(expr: &str) -> bool {
    let b = expr.as_bytes();
    if b.first() != Some(&b'(') {
        return false;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == b.len() - 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// ` COLLATE …` for a collation as introspection gives it: a `pg_catalog` collation by its
/// bare name (`C`, `en_US.utf8`, `und-x-icu`), another as `schema.name`.
fn collate_sql(collation: &Option<String>) -> String {
    let Some(c) = collation else {
        return String::new();
    };
    // A locale name's dot (`en_US.utf8`, `C.utf8`) is not a schema's: a schema-qualified
    // name has a lower-case, simple schema part.
    let qualified = c.split_once('.').filter(|(schema, name)| {
        !schema.is_empty()
            && !name.is_empty()
            && schema
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            && !schema.starts_with(|ch: char| ch.is_ascii_digit())
            && !looks_like_locale(schema)
    });
    match qualified {
        Some((schema, name)) => format!(" COLLATE {}", qt(schema, name)),
        None => format!(" COLLATE {}", qi(c)),
    }
}

/// `en_us`-like: two or three letters, `_`, two letters (glibc locale names, lower-cased).
fn looks_like_locale(s: &str) -> bool {
    match s.split_once('_') {
        Some((lang, region)) => {
            (2..=3).contains(&lang.len())
                && region.len() == 2
                && lang.chars().all(|c| c.is_ascii_alphabetic())
                && region.chars().all(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
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

    // Sequences: new ones before the tables whose defaults use them; a sequence whose owner
    // changes (or that goes away with its column) is released first, so that dropping its
    // old column or table does not take it along (and the down script can recreate it
    // before them). A sequence the desired catalog lacks is left alone unless its column
    // goes away: declarations do not declare sequences.
    for sq in &desired.sequences {
        if cur.sequence(&sq.schema, &sq.name).is_none() {
            p.step(
                Phase::Transactional,
                format!("create sequence {}.{}", sq.schema, sq.name),
                vec![create_sequence_sql(sq)],
                vec![format!(
                    "DROP SEQUENCE IF EXISTS {}",
                    qt(&sq.schema, &sq.name)
                )],
                vec![],
            );
        }
    }
    for sq in &cur.sequences {
        let released = match desired.sequence(&sq.schema, &sq.name) {
            Some(d) => sq.owned_by.is_some() && d.owned_by != sq.owned_by,
            None => goes_with_its_column(sq, desired),
        };
        if released {
            p.step(
                Phase::Transactional,
                format!("release sequence {}.{} from its column", sq.schema, sq.name),
                vec![owned_by_sql(sq, &None)],
                vec![owned_by_sql(sq, &sq.owned_by)],
                vec![],
            );
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
                    vec![add_fk_sql(t, fk, !fk.validated)],
                    vec![],
                );
            }
        }
    }

    // New tables, with their indexes and comments (an empty table needs no online build).
    for t in &desired.tables {
        if cur.table(&t.schema, &t.name).is_none() {
            let up = create_table_with_indexes(t);
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
            if let Some(e) = existing.filter(|e| same_fk(e, fk)) {
                if !e.validated && fk.validated {
                    // Undone by adding it back NOT VALID.
                    p.step(
                        Phase::Online,
                        format!("validate foreign key {}", fk.name),
                        vec![format!(
                            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                            qt(&dt.schema, &dt.name),
                            qi(&fk.name)
                        )],
                        vec![drop_constraint_sql(dt, &fk.name), add_fk_sql(dt, e, true)],
                        vec![Hazard::ValidationScan, Hazard::NonTransactional],
                    );
                }
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
            if existing_table && fk.validated {
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

    // Sequences: owners (once their columns exist) and parameters.
    for sq in &desired.sequences {
        let old = cur.sequence(&sq.schema, &sq.name);
        if let Some(old) = old
            && !same_sequence_parameters(old, sq)
        {
            p.step(
                Phase::Transactional,
                format!("alter sequence {}.{}", sq.schema, sq.name),
                vec![alter_sequence_sql(sq)],
                vec![alter_sequence_sql(old)],
                vec![],
            );
        }
        let old_owner = old.map(|o| &o.owned_by);
        if sq.owned_by.is_some() && old_owner != Some(&sq.owned_by) {
            p.step(
                Phase::Transactional,
                format!("attach sequence {}.{} to its column", sq.schema, sq.name),
                vec![owned_by_sql(sq, &sq.owned_by)],
                vec![owned_by_sql(sq, &None)],
                vec![],
            );
        }
    }

    // Tables that go away.
    for t in &cur.tables {
        if desired.table(&t.schema, &t.name).is_none() {
            let down = create_table_with_indexes(t);
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

    for sq in &cur.sequences {
        if desired.sequence(&sq.schema, &sq.name).is_none() && goes_with_its_column(sq, desired) {
            p.step(
                Phase::Transactional,
                format!("drop sequence {}.{}", sq.schema, sq.name),
                vec![format!("DROP SEQUENCE {}", qt(&sq.schema, &sq.name))],
                vec![create_sequence_sql(sq)],
                vec![],
            );
        }
    }
    // Schemas that go away (empty by now: without CASCADE, anything left that is not
    // modeled stops it).
    for s in &cur.schemas {
        if !desired.schemas.contains(s) {
            p.step(
                Phase::Transactional,
                format!("drop schema {s}"),
                vec![format!("DROP SCHEMA {}", qi(s))],
                vec![format!("CREATE SCHEMA {}", qi(s))],
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

fn sequence_parameters_sql(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

fn create_sequence_sql(s: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} {}",
        qt(&s.schema, &s.name),
        sequence_parameters_sql(s)
    )
}

fn alter_sequence_sql(s: &Sequence) -> String {
    format!(
        "ALTER SEQUENCE {} {}",
        qt(&s.schema, &s.name),
        sequence_parameters_sql(s)
    )
}

/// Whether the column that owns `sq` (a serial column's sequence) is absent from `desired`.
fn goes_with_its_column(sq: &Sequence, desired: &Catalog) -> bool {
    sq.owned_by.as_ref().is_some_and(|o| {
        desired
            .table(&o.schema, &o.table)
            .is_none_or(|t| t.column(&o.column).is_none())
    })
}

fn same_sequence_parameters(a: &Sequence, b: &Sequence) -> bool {
    (
        &a.data_type,
        a.increment,
        a.min,
        a.max,
        a.start,
        a.cache,
        a.cycle,
    ) == (
        &b.data_type,
        b.increment,
        b.min,
        b.max,
        b.start,
        b.cache,
        b.cycle,
    )
}

fn owned_by_sql(s: &Sequence, owner: &Option<OwnedBy>) -> String {
    let to = match owner {
        Some(o) => format!("{}.{}", qt(&o.schema, &o.table), qi(&o.column)),
        None => "NONE".to_owned(),
    };
    format!("ALTER SEQUENCE {} OWNED BY {to}", qt(&s.schema, &s.name))
}

/// A table as a new one is made: `CREATE TABLE`, its indexes (plain builds: it is empty) and
/// its comments.
fn create_table_with_indexes(t: &Table) -> Vec<String> {
    let mut v = vec![create_table_sql(t)];
    for ix in t.indexes.iter().filter(|i| !i.is_constraint_backed) {
        v.push(index_sql(ix, false));
    }
    v.extend(comments_sql(t));
    v
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
    let added: Vec<&String> = new
        .labels
        .iter()
        .filter(|l| !old.labels.contains(l))
        .collect();
    // A label added by `ADD VALUE` cannot be used before the transaction commits ("unsafe use
    // of new value"): when the desired catalog uses one (a default, a check, …), the type is
    // recreated instead, in the same transaction, which makes its labels usable at once.
    let used = appended && labels_used(p.desired, new, &added);
    if appended && !used {
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
    } else if used {
        p.step(
            Phase::Transactional,
            format!(
                "recreate enum {}.{} to add labels used at once: {}",
                old.schema,
                old.name,
                added
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            recreate(old, new),
            recreate(new, old),
            vec![Hazard::TableRewrite, Hazard::AccessExclusiveLock],
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

/// Whether an expression of `catalog` (a default, a generated column, a check, an index key
/// or predicate) mentions one of `labels` of the enum `e` as a literal (`'happy'::mood`,
/// `'{happy,sad}'::mood[]`). Approximate on the safe side: a mention of the type and of the
/// label in any string literal counts.
fn labels_used(catalog: &Catalog, e: &EnumType, labels: &[&String]) -> bool {
    let mentions = |expr: &str| -> bool {
        if !expr.contains(e.name.as_str()) {
            return false;
        }
        string_literals(expr).iter().any(|lit| {
            labels.iter().any(|l| {
                lit == *l
                    || lit
                        .strip_prefix('{')
                        .and_then(|x| x.strip_suffix('}'))
                        .is_some_and(|items| {
                            items
                                .split(',')
                                .any(|i| i.trim().trim_matches('"') == l.as_str())
                        })
            })
        })
    };
    catalog.tables.iter().any(|t| {
        t.columns.iter().any(|c| {
            c.default.as_deref().is_some_and(mentions)
                || c.generated.as_deref().is_some_and(mentions)
        }) || t.checks.iter().any(|c| mentions(&c.expression))
            || t.indexes.iter().any(|i| {
                i.keys.iter().any(|k| mentions(k)) || i.predicate.as_deref().is_some_and(mentions)
            })
    })
}

/// The contents of the `'…'` literals of deparsed SQL (with `''` undoubled).
fn string_literals(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut lit = String::new();
        while let Some(d) = chars.next() {
            if d == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    lit.push('\'');
                    continue;
                }
                break;
            }
            lit.push(d);
        }
        out.push(lit);
    }
    out
}

/// Same foreign key, whether validated or not (the definition covers `MATCH FULL` and
/// `ON DELETE SET NULL (columns)`, which the other fields leave out).
fn same_fk(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.definition.trim_end_matches(" NOT VALID") == b.definition.trim_end_matches(" NOT VALID")
        && a.columns == b.columns
        && a.ref_schema == b.ref_schema
        && a.ref_table == b.ref_table
        && a.ref_columns == b.ref_columns
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
        && a.deferrable == b.deferrable
}

/// Same index: the definition covers sort order, operator classes, collations and storage
/// parameters, which the other fields leave out; an invalid index (a failed concurrent
/// build) is rebuilt.
fn same_index(a: &Index, b: &Index) -> bool {
    a.definition == b.definition
        && a.valid == b.valid
        && a.unique == b.unique
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
/// old table or column name (`old_pkey`, `t_old_col_idx`, …) follow when the desired catalog
/// has the derived new name, and every definition that mentions a renamed table or column
/// (checks, indexes, foreign keys of any table, defaults) is rewritten, so that what is
/// unchanged compares equal and the down script's statements name what exists when they run.
fn renames(cur: &mut Catalog, p: &mut Planner<'_>, options: &DiffOptions) {
    // Column renames declared on a table, by (schema, table's new name).
    let column_renames_of = |schema: &str, table: &str| -> Vec<(&str, &str)> {
        options
            .column_renames
            .iter()
            .filter(|r| r.schema == schema && r.table == table)
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect()
    };
    let mut followed: Vec<(String, String)> = Vec::new();
    for r in &options.table_renames {
        let present_old = cur.table(&r.schema, &r.from).is_some();
        let present_new = cur.table(&r.schema, &r.to).is_some();
        if !present_old || present_new {
            continue;
        }
        let desired = p.desired.table(&r.schema, &r.to);
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
        t.name = r.to.clone();
        // Index definitions name the table: follow the rename.
        for ix in &mut t.indexes {
            ix.definition = ix.definition.replacen(
                &format!(" ON {} ", qt_plain(&r.schema, &r.from)),
                &format!(" ON {} ", qt_plain(&r.schema, &r.to)),
                1,
            );
        }
        let cols = column_renames_of(&r.schema, &r.to);
        let (follow_up, follow_down) = follow_names(
            t,
            desired,
            |name| derived_names(name, &r.from, &r.to, &cols),
            &qt(&r.schema, &r.to),
            &qt(&r.schema, &r.from),
        );
        up.extend(follow_up);
        followed.push((r.schema.clone(), r.to.clone()));
        // Foreign keys (of any table) that refer to it.
        for t in &mut cur.tables {
            for fk in &mut t.foreign_keys {
                if fk.ref_schema == r.schema && fk.ref_table == r.from {
                    fk.ref_table = r.to.clone();
                    fk.definition =
                        rename_referenced_table(&fk.definition, &r.schema, &r.from, &r.to);
                }
            }
        }
        // Its serial sequences: owned by the new name, and renamed as it derives them.
        for sq in &mut cur.sequences {
            if let Some(o) = &mut sq.owned_by
                && o.schema == r.schema
                && o.table == r.from
            {
                o.table = r.to.clone();
            }
        }
        let (seq_up, seq_down) = follow_sequences(cur, p.desired, &r.schema, &r.to, |name| {
            derived_names(name, &r.from, &r.to, &cols)
        });
        up.extend(seq_up);
        // Undo: the table's name back first, then the names that followed it (on the old
        // table name).
        let mut down = vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            qt(&r.schema, &r.to),
            qi(&r.from)
        )];
        down.extend(follow_down);
        down.extend(seq_down);
        p.step(
            Phase::Transactional,
            format!("rename table {}.{} to {}", r.schema, r.from, r.to),
            up,
            down,
            vec![Hazard::AccessExclusiveLock],
        );
    }
    for r in &options.column_renames {
        let desired = p.desired.table(&r.schema, &r.table);
        let Some(ti) = cur
            .tables
            .iter()
            .position(|t| t.schema == r.schema && t.name == r.table)
        else {
            continue;
        };
        let t = &mut cur.tables[ti];
        if t.column(&r.from).is_none() || t.column(&r.to).is_some() {
            continue;
        }
        for c in &mut t.columns {
            if c.name == r.from {
                c.name = r.to.clone();
            }
        }
        let to_sql = ident_plain(&r.to);
        let map = |name: &str| (name == r.from).then(|| to_sql.clone());
        let rename = |v: &mut Vec<String>| {
            for x in v.iter_mut() {
                if *x == r.from {
                    *x = r.to.clone();
                }
            }
        };
        for c in &mut t.columns {
            for e in [&mut c.default, &mut c.generated].into_iter().flatten() {
                *e = map_idents(e, map);
            }
        }
        if let Some(pk) = &mut t.primary_key {
            rename(&mut pk.columns);
        }
        for u in &mut t.uniques {
            rename(&mut u.columns);
            u.definition = map_idents(&u.definition, map);
        }
        for c in &mut t.checks {
            rename(&mut c.columns);
            c.expression = map_idents(&c.expression, map);
            c.definition = map_idents(&c.definition, map);
        }
        for f in &mut t.foreign_keys {
            rename(&mut f.columns);
            if let Some(at) = f.definition.find(" REFERENCES ") {
                let (own, refs) = f.definition.split_at(at);
                f.definition = format!("{}{refs}", map_idents(own, map));
            }
        }
        for ix in &mut t.indexes {
            for k in &mut ix.keys {
                *k = map_idents(k, map);
            }
            rename(&mut ix.include);
            if let Some(pred) = &mut ix.predicate {
                *pred = map_idents(pred, map);
            }
            if let Some(at) = ix.definition.find(" USING ") {
                let (head, body) = ix.definition.split_at(at);
                ix.definition = format!("{head}{}", map_idents(body, map));
            }
        }
        // Foreign keys (of any table, this one included) that refer to the column.
        for t in &mut cur.tables {
            for fk in &mut t.foreign_keys {
                if fk.ref_schema == r.schema && fk.ref_table == r.table {
                    rename(&mut fk.ref_columns);
                    fk.definition = map_referenced_columns(&fk.definition, map);
                }
            }
        }
        for sq in &mut cur.sequences {
            if let Some(o) = &mut sq.owned_by
                && o.schema == r.schema
                && o.table == r.table
                && o.column == r.from
            {
                o.column = r.to.clone();
            }
        }
        let table = qt(&r.schema, &r.table);
        let mut up = vec![format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            qi(&r.from),
            qi(&r.to)
        )];
        let mut down = Vec::new();
        // A renamed table's derived names followed with it (and its columns) already.
        if !followed.contains(&(r.schema.clone(), r.table.clone())) {
            let cols = [(r.from.as_str(), r.to.as_str())];
            let (follow_up, follow_down) = follow_names(
                &mut cur.tables[ti],
                desired,
                |name| derived_names(name, &r.table, &r.table, &cols),
                &table,
                &table,
            );
            up.extend(follow_up);
            down.extend(follow_down);
            let (seq_up, seq_down) =
                follow_sequences(cur, p.desired, &r.schema, &r.table, |name| {
                    derived_names(name, &r.table, &r.table, &cols)
                });
            up.extend(seq_up);
            down.extend(seq_down);
        }
        down.push(format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            qi(&r.to),
            qi(&r.from)
        ));
        p.step(
            Phase::Transactional,
            format!(
                "rename column {}.{}.{} to {}",
                r.schema, r.table, r.from, r.to
            ),
            up,
            down,
            vec![Hazard::AccessExclusiveLock],
        );
    }
}

/// The names PostgreSQL would derive for `name` (`{table}_{columns}_{suffix}`) once the
/// table `from` is `to` and the columns `cols` (old, new) are renamed, most specific first.
fn derived_names(name: &str, from: &str, to: &str, cols: &[(&str, &str)]) -> Vec<String> {
    let Some(rest) = name.strip_prefix(from).and_then(|r| r.strip_prefix('_')) else {
        return Vec::new();
    };
    let mut tail = format!("_{rest}");
    for (old, new) in cols {
        tail = tail.replacen(&format!("_{old}_"), &format!("_{new}_"), 1);
    }
    vec![format!("{to}{tail}"), format!("{to}_{rest}")]
}

/// Renames the constraints and indexes of `t` whose derived new name (the first of
/// `candidates(name)` that the desired table has, while it has not the old one) differs;
/// returns the statements, up in order and down in undo order. Renaming a primary key or
/// unique constraint renames its index too.
fn follow_names(
    t: &mut Table,
    desired: Option<&Table>,
    candidates: impl Fn(&str) -> Vec<String>,
    up_table: &str,
    down_table: &str,
) -> (Vec<String>, Vec<String>) {
    let Some(d) = desired else {
        return (Vec::new(), Vec::new());
    };
    fn has(t: &Table, name: &str) -> bool {
        t.primary_key.as_ref().is_some_and(|pk| pk.name == name)
            || t.unique(name).is_some()
            || t.check(name).is_some()
            || t.foreign_key(name).is_some()
            || t.index(name).is_some()
    }
    let follow = |name: &str| -> Option<String> {
        if has(d, name) {
            return None;
        }
        candidates(name)
            .into_iter()
            .find(|new| new != name && has(d, new) && !has(t, new))
    };
    let mut constraints: Vec<(String, String)> = Vec::new();
    let names = t
        .primary_key
        .iter()
        .map(|pk| &pk.name)
        .chain(t.uniques.iter().map(|u| &u.name))
        .chain(t.checks.iter().map(|c| &c.name))
        .chain(t.foreign_keys.iter().map(|f| &f.name));
    for name in names {
        if let Some(new) = follow(name) {
            constraints.push((name.clone(), new));
        }
    }
    let mut indexes: Vec<(String, String)> = Vec::new();
    for ix in &t.indexes {
        if constraints.iter().any(|(o, _)| *o == ix.name) {
            continue;
        }
        if let Some(new) = follow(&ix.name) {
            indexes.push((ix.name.clone(), new));
        }
    }
    let renamed = |name: &mut String, list: &[(String, String)]| {
        if let Some((_, new)) = list.iter().find(|(o, _)| o == name) {
            *name = new.clone();
        }
    };
    if let Some(pk) = &mut t.primary_key {
        renamed(&mut pk.name, &constraints);
    }
    for u in &mut t.uniques {
        renamed(&mut u.name, &constraints);
    }
    for c in &mut t.checks {
        renamed(&mut c.name, &constraints);
    }
    for f in &mut t.foreign_keys {
        renamed(&mut f.name, &constraints);
    }
    for ix in &mut t.indexes {
        let old = ix.name.clone();
        renamed(&mut ix.name, &constraints);
        renamed(&mut ix.name, &indexes);
        if ix.name != old {
            ix.definition = ix.definition.replacen(
                &format!(" INDEX {} ON ", ident_plain(&old)),
                &format!(" INDEX {} ON ", ident_plain(&ix.name)),
                1,
            );
        }
    }
    let mut up = Vec::new();
    let mut down = Vec::new();
    for (old, new) in &constraints {
        up.push(format!(
            "ALTER TABLE {up_table} RENAME CONSTRAINT {} TO {}",
            qi(old),
            qi(new)
        ));
        down.push(format!(
            "ALTER TABLE {down_table} RENAME CONSTRAINT {} TO {}",
            qi(new),
            qi(old)
        ));
    }
    for (old, new) in &indexes {
        up.push(format!(
            "ALTER INDEX {} RENAME TO {}",
            qt(&t.schema, old),
            qi(new)
        ));
        down.push(format!(
            "ALTER INDEX {} RENAME TO {}",
            qt(&t.schema, new),
            qi(old)
        ));
    }
    t.sort();
    down.reverse();
    (up, down)
}

/// Renames the sequences owned by a column of `schema.table` whose derived new name (the
/// first of `candidates(name)` that the desired catalog has, while it has not the old one)
/// differs, and rewrites the defaults that call them; returns the statements, up in order
/// and down in undo order.
fn follow_sequences(
    cur: &mut Catalog,
    desired: &Catalog,
    schema: &str,
    table: &str,
    candidates: impl Fn(&str) -> Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let mut renamed: Vec<(String, String, String)> = Vec::new();
    for sq in &cur.sequences {
        let owned = sq
            .owned_by
            .as_ref()
            .is_some_and(|o| o.schema == schema && o.table == table);
        if !owned || desired.sequence(&sq.schema, &sq.name).is_some() {
            continue;
        }
        let new = candidates(&sq.name).into_iter().find(|n| {
            *n != sq.name
                && desired.sequence(&sq.schema, n).is_some()
                && cur.sequence(&sq.schema, n).is_none()
        });
        if let Some(new) = new {
            renamed.push((sq.schema.clone(), sq.name.clone(), new));
        }
    }
    let mut up = Vec::new();
    let mut down = Vec::new();
    for (sq_schema, old, new) in &renamed {
        for sq in &mut cur.sequences {
            if sq.schema == *sq_schema && sq.name == *old {
                sq.name = new.clone();
            }
        }
        // `nextval('old_seq'::regclass)`, qualified when not on the search path.
        let forms = [
            (
                format!("'{}'::regclass", ident_plain(old)),
                format!("'{}'::regclass", ident_plain(new)),
            ),
            (
                format!("'{}'::regclass", qt_plain(sq_schema, old)),
                format!("'{}'::regclass", qt_plain(sq_schema, new)),
            ),
        ];
        for t in &mut cur.tables {
            for c in &mut t.columns {
                if let Some(d) = &mut c.default {
                    for (from, to) in &forms {
                        *d = d.replace(from.as_str(), to);
                    }
                }
            }
        }
        up.push(format!(
            "ALTER SEQUENCE {} RENAME TO {}",
            qt(sq_schema, old),
            qi(new)
        ));
        down.push(format!(
            "ALTER SEQUENCE {} RENAME TO {}",
            qt(sq_schema, new),
            qi(old)
        ));
    }
    down.reverse();
    (up, down)
}

/// A foreign key's `pg_get_constraintdef` with its referenced table `schema.from` renamed to
/// `to` (written qualified or not, depending on the `search_path`).
fn rename_referenced_table(definition: &str, schema: &str, from: &str, to: &str) -> String {
    let qualified = format!(" REFERENCES {}(", qt_plain(schema, from));
    if definition.contains(&qualified) {
        return definition.replacen(
            &qualified,
            &format!(" REFERENCES {}(", qt_plain(schema, to)),
            1,
        );
    }
    definition.replacen(
        &format!(" REFERENCES {}(", ident_plain(from)),
        &format!(" REFERENCES {}(", ident_plain(to)),
        1,
    )
}

/// A foreign key's `pg_get_constraintdef` with the referenced column list (`REFERENCES
/// t(a, b)`) rewritten by `map`.
fn map_referenced_columns(definition: &str, map: impl Fn(&str) -> Option<String>) -> String {
    let Some(at) = definition.find(" REFERENCES ") else {
        return definition.to_owned();
    };
    let Some(open) = definition[at..].find('(').map(|i| at + i) else {
        return definition.to_owned();
    };
    let Some(close) = definition[open..].find(')').map(|i| open + i) else {
        return definition.to_owned();
    };
    format!(
        "{}{}{}",
        &definition[..open],
        map_idents(&definition[open..close], map),
        &definition[close..]
    )
}

/// Keywords PostgreSQL's `quote_ident` quotes (every category but the unreserved one).
const QUOTED_KEYWORDS: &str = "\
     all analyse analyze and any array as asc asymmetric authorization between bigint binary \
     bit boolean both case cast char character check coalesce collate collation column \
     concurrently constraint create cross current_catalog current_date current_role \
     current_schema current_time current_timestamp current_user dec decimal default \
     deferrable desc distinct do else end except exists extract false fetch float for foreign \
     freeze from full grant greatest group grouping having ilike in initially inner inout int \
     integer intersect interval into is isnull join lateral leading least left like limit \
     localtime localtimestamp national natural nchar none normalize not notnull null nullif \
     numeric offset on only or order out outer overlaps overlay placing position precision \
     primary real references returning right row select session_user setof similar smallint \
     some substring symmetric system_user table tablesample then time timestamp to trailing \
     treat trim true union unique user using values varchar variadic verbose when where \
     window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces \
     xmlparse xmlpi xmlroot xmlserialize xmltable";

/// An identifier as PostgreSQL's deparser writes it: bare when simple (lower-case letters,
/// digits, `_`, not a keyword it quotes), quoted otherwise.
fn ident_plain(s: &str) -> String {
    let simple = s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !QUOTED_KEYWORDS.split_whitespace().any(|k| k == s);
    if simple { s.to_owned() } else { qi(s) }
}

/// `schema.name` as `pg_get_indexdef` writes it (quoted only when needed).
fn qt_plain(schema: &str, name: &str) -> String {
    format!("{}.{}", ident_plain(schema), ident_plain(name))
}

/// Rewrites the column references of SQL that PostgreSQL deparsed (`pg_get_expr`,
/// `pg_get_constraintdef`, `pg_get_indexdef`): `map` gets each identifier (unquoted, as its
/// name) that can name a column and returns its replacement, already written as SQL, if
/// any. Not column references: string literals, numbers, function names (before `(`), type
/// names (after `::`), later parts of qualified names (after `.`), collations (after
/// `COLLATE`).
fn map_idents(sql: &str, map: impl Fn(&str) -> Option<String>) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    // The previous token, for context: `.`, `::`, `COLLATE`, or anything else.
    let mut prev = "";
    let word_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b'\'' || c == b'"' {
            i += 1;
            while i < b.len() {
                if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            let token = &sql[start..i];
            if c == b'"' {
                let name = token[1..token.len().saturating_sub(1).max(1)].replace("\"\"", "\"");
                let replaced = column_position(prev, &sql[i..])
                    .then(|| map(&name))
                    .flatten();
                out.push_str(replaced.as_deref().unwrap_or(token));
                prev = "ident";
            } else {
                out.push_str(token);
                prev = "literal";
            }
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len() && (word_char(b[i]) || b[i] == b'.') {
                i += 1;
            }
            out.push_str(&sql[start..i]);
            prev = "number";
            continue;
        }
        if word_char(c) {
            while i < b.len() && word_char(b[i]) {
                i += 1;
            }
            let word = &sql[start..i];
            let replaced = column_position(prev, &sql[i..])
                .then(|| map(word))
                .flatten();
            out.push_str(replaced.as_deref().unwrap_or(word));
            prev = if word.eq_ignore_ascii_case("collate") {
                "COLLATE"
            } else {
                "ident"
            };
            continue;
        }
        if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push_str("::");
            i += 2;
            prev = "::";
            continue;
        }
        // Any other character (UTF-8 continuation bytes are word characters above).
        out.push(c as char);
        i += 1;
        if !c.is_ascii_whitespace() {
            prev = if c == b'.' { "." } else { "punct" };
        }
    }
    out
}

/// Whether an identifier after the token `prev` and before `rest` can be a column reference.
fn column_position(prev: &str, rest: &str) -> bool {
    !matches!(prev, "." | "::" | "COLLATE") && !rest.trim_start().starts_with('(')
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
                add_column_sql(&table, c),
                vec![format!("ALTER TABLE {table} DROP COLUMN {}", qi(&c.name))],
                hazards,
            );
        }
    }

    // Columns on both sides.
    let mut pk_not_null: Vec<String> = Vec::new();
    let mut drop_not_null: Vec<(String, String, String)> = Vec::new();
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
                [format!("ALTER TABLE {table} DROP COLUMN {col}")]
                    .into_iter()
                    .chain(add_column_sql(&table, c))
                    .collect(),
                [format!("ALTER TABLE {table} DROP COLUMN {col}")]
                    .into_iter()
                    .chain(add_column_sql(&table, old))
                    .collect(),
                vec![Hazard::TableRewrite, Hazard::AccessExclusiveLock],
            );
            continue;
        }
        if old.type_sql != c.type_sql || old.collation != c.collation {
            let coll = |c: &Column| collate_sql(&c.collation);
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
        // Adding an identity needs the column NOT NULL first (done here, in the same step,
        // rather than online).
        let identity_sets_not_null = old.identity.is_none() && c.identity.is_some() && old.nullable;
        if old.identity != c.identity {
            // To `to` from `from`; an added identity's sequence continues after the rows'
            // values.
            let change = |to: Option<Identity>, from: Option<Identity>| -> Vec<String> {
                let alter = format!("ALTER TABLE {table} ALTER COLUMN {col}");
                let restart = format!(
                    "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('{}', '{}'), \
                     max({col})) FROM {table} HAVING max({col}) >= 1",
                    table.replace('\'', "''"),
                    c.name.replace('\'', "''")
                );
                match (from, to) {
                    (None, Some(Identity::Always)) => {
                        vec![format!("{alter} ADD GENERATED ALWAYS AS IDENTITY"), restart]
                    }
                    (None, Some(Identity::ByDefault)) => vec![
                        format!("{alter} ADD GENERATED BY DEFAULT AS IDENTITY"),
                        restart,
                    ],
                    (Some(_), None) => vec![format!("{alter} DROP IDENTITY")],
                    (Some(_), Some(Identity::Always)) => {
                        vec![format!("{alter} SET GENERATED ALWAYS")]
                    }
                    (Some(_), Some(Identity::ByDefault)) => {
                        vec![format!("{alter} SET GENERATED BY DEFAULT")]
                    }
                    (None, None) => Vec::new(),
                }
            };
            let mut up = change(c.identity, old.identity);
            let mut down = change(old.identity, c.identity);
            if identity_sets_not_null {
                up.insert(
                    0,
                    format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
                );
                down.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"
                ));
            }
            p.step(
                Phase::Transactional,
                format!("change identity of {tname}.{}", c.name),
                up,
                down,
                vec![],
            );
        }
        // A new primary key makes its columns NOT NULL itself.
        let pk_sets_not_null = old.nullable
            && !c.nullable
            && ct.primary_key != dt.primary_key
            && dt
                .primary_key
                .as_ref()
                .is_some_and(|pk| pk.columns.contains(&c.name));
        if pk_sets_not_null {
            pk_not_null.push(col.clone());
        } else if old.nullable && !c.nullable && !identity_sets_not_null {
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
            // After the primary key step: a column of a primary key cannot drop NOT NULL.
            drop_not_null.push((
                format!("drop NOT NULL on {tname}.{}", c.name),
                format!("ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"),
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
            ));
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
        // The columns it made NOT NULL were nullable before.
        for col in &pk_not_null {
            down.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"
            ));
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
    for (summary, up, down) in drop_not_null {
        p.step(Phase::Transactional, summary, vec![up], vec![down], vec![]);
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
        if dt.check(&c.name).is_none_or(|d| !same_check(d, c)) {
            p.step(
                Phase::Transactional,
                format!("drop check {} on {tname}", c.name),
                vec![drop_constraint_sql(dt, &c.name)],
                vec![format!(
                    "ALTER TABLE {table} ADD {}{}",
                    constraint_sql(&c.name, &check_sql(c)),
                    if c.validated { "" } else { " NOT VALID" }
                )],
                vec![],
            );
        }
    }
    for c in &dt.checks {
        let old = ct.check(&c.name).filter(|o| same_check(o, c));
        if let Some(o) = old {
            if !o.validated && c.validated {
                // Undone by adding it back NOT VALID.
                p.step(
                    Phase::Online,
                    format!("validate check {} on {tname}", c.name),
                    vec![format!(
                        "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
                        qi(&c.name)
                    )],
                    vec![
                        drop_constraint_sql(dt, &c.name),
                        format!(
                            "ALTER TABLE {table} ADD {} NOT VALID",
                            constraint_sql(&c.name, &check_sql(o))
                        ),
                    ],
                    vec![Hazard::ValidationScan, Hazard::NonTransactional],
                );
            }
            continue;
        }
        p.step(
            Phase::Transactional,
            format!("add check {} on {tname}", c.name),
            vec![format!(
                "ALTER TABLE {table} ADD {} NOT VALID",
                constraint_sql(&c.name, &check_sql(c))
            )],
            vec![drop_constraint_sql(dt, &c.name)],
            vec![],
        );
        if c.validated {
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
    // Columns that go away: an index on one goes with it, in the transaction, before it (so
    // that the down script rebuilds it after the column is back).
    let dropped: Vec<&str> = ct
        .columns
        .iter()
        .filter(|c| dt.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    for ix in &cur_ix {
        if !new_ix
            .iter()
            .any(|n| n.name == ix.name && same_index(n, ix))
        {
            if index_uses_any(ix, &dropped) {
                p.step(
                    Phase::Transactional,
                    format!("drop index {} on {tname}", ix.name),
                    vec![drop_index_sql(&dt.schema, ix, false)],
                    vec![index_sql(ix, false)],
                    vec![Hazard::AccessExclusiveLock],
                );
                continue;
            }
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
                add_column_sql(&table, c),
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

/// Whether the index's keys, `INCLUDE` columns or predicate mention one of `columns`.
fn index_uses_any(ix: &Index, columns: &[&str]) -> bool {
    if columns.is_empty() {
        return false;
    }
    let found = std::cell::Cell::new(false);
    let probe = |name: &str| {
        if columns.contains(&name) {
            found.set(true);
        }
        None
    };
    for k in &ix.keys {
        map_idents(k, probe);
    }
    if let Some(pred) = &ix.predicate {
        map_idents(pred, probe);
    }
    found.get() || ix.include.iter().any(|c| columns.contains(&c.as_str()))
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
    use crate::catalog::PrimaryKey;

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

    fn index(table: &str, name: &str, keys: &str, tail: &str) -> Index {
        Index {
            name: name.into(),
            definition: format!("CREATE INDEX {name} ON public.{table} USING btree ({keys}){tail}"),
            unique: false,
            is_constraint_backed: false,
            method: "btree".into(),
            keys: vec![keys.trim_end_matches(" DESC").into()],
            include: Vec::new(),
            predicate: tail.strip_prefix(" WHERE ").map(Into::into),
            valid: true,
        }
    }

    fn check(name: &str, expression: &str) -> Check {
        Check {
            name: name.into(),
            definition: format!("CHECK ({expression})"),
            expression: expression.into(),
            columns: Vec::new(),
            validated: true,
        }
    }

    fn fk(name: &str, column: &str, ref_table: &str, definition: &str) -> ForeignKey {
        ForeignKey {
            name: name.into(),
            definition: definition.into(),
            columns: vec![column.into()],
            ref_schema: "public".into(),
            ref_table: ref_table.into(),
            ref_columns: vec!["id".into()],
            on_delete: crate::meta::FkAction::NoAction,
            on_update: crate::meta::FkAction::NoAction,
            deferrable: crate::meta::Deferrable::No,
            validated: true,
        }
    }

    fn ups(plan: &Plan) -> Vec<&str> {
        plan.steps
            .iter()
            .flat_map(|s| s.up.iter().map(String::as_str))
            .collect()
    }

    fn allow() -> DiffOptions {
        DiffOptions {
            allow_destructive: true,
            ..DiffOptions::default()
        }
    }

    #[test]
    fn checks_are_parenthesized_when_pg_get_expr_does_not() {
        assert_eq!(check_def("active"), "CHECK (active)");
        assert_eq!(check_def("f(x)"), "CHECK (f(x))");
        assert_eq!(check_def("(a > 0)"), "CHECK (a > 0)");
        assert_eq!(check_def("(a)::text = ')'"), "CHECK ((a)::text = ')')");
        assert_eq!(check_def("(a > 0) = (b > 0)"), "CHECK ((a > 0) = (b > 0))");
    }

    #[test]
    fn collations_are_quoted() {
        let c = |s: &str| collate_sql(&Some(s.into()));
        assert_eq!(c("C"), r#" COLLATE "C""#);
        assert_eq!(c("en_US.utf8"), r#" COLLATE "en_US.utf8""#);
        assert_eq!(c("und-x-icu"), r#" COLLATE "und-x-icu""#);
        assert_eq!(c("app.nocase"), r#" COLLATE "app"."nocase""#);
        assert_eq!(collate_sql(&None), "");
    }

    #[test]
    fn column_references_are_rewritten_and_nothing_else() {
        let map = |n: &str| (n == "a").then(|| "b".to_owned());
        assert_eq!(
            map_idents(
                r#"(lower(a) || a::text || x.a || 'a' || "a" || a(1)) COLLATE a"#,
                map
            ),
            r#"(lower(b) || b::text || x.a || 'a' || b || a(1)) COLLATE a"#
        );
        assert_eq!(ident_plain("order"), r#""order""#);
        assert_eq!(ident_plain("Rank"), r#""Rank""#);
        assert_eq!(ident_plain("rank_2"), "rank_2");
    }

    #[test]
    fn a_table_rename_carries_the_foreign_keys_that_refer_to_it() {
        let mut child = table(
            "child",
            vec![col("id", "integer", false), col("p", "integer", true)],
        );
        child.foreign_keys.push(fk(
            "child_p_fkey",
            "p",
            "old",
            "FOREIGN KEY (p) REFERENCES old(id)",
        ));
        let mut old = table("old", vec![col("id", "integer", false)]);
        old.indexes
            .push(index("old", "old_id_idx", "id", " WHERE (id > 0)"));
        let a = catalog(vec![old, child.clone()]);
        let mut new = table("new", vec![col("id", "integer", false)]);
        new.indexes
            .push(index("new", "new_id_idx", "id", " WHERE (id > 0)"));
        child.foreign_keys[0] = fk(
            "child_p_fkey",
            "p",
            "new",
            "FOREIGN KEY (p) REFERENCES new(id)",
        );
        let b = catalog(vec![new, child]);
        let opts = DiffOptions {
            table_renames: vec![TableRename {
                schema: "public".into(),
                from: "old".into(),
                to: "new".into(),
            }],
            ..DiffOptions::default()
        };
        let plan = diff(&a, &b, &opts).unwrap();
        assert_eq!(
            ups(&plan),
            [
                r#"ALTER TABLE "public"."old" RENAME TO "new""#,
                r#"ALTER TABLE "public"."new" RENAME CONSTRAINT "old_pkey" TO "new_pkey""#,
                r#"ALTER INDEX "public"."old_id_idx" RENAME TO "new_id_idx""#,
            ]
        );
    }

    #[test]
    fn a_column_rename_rewrites_expressions_and_derived_names_follow() {
        let mut t = table(
            "t",
            vec![col("id", "integer", false), col("a", "integer", true)],
        );
        t.checks.push(check("t_a_check", "(a > 0)"));
        t.indexes
            .push(index("t", "t_a_idx", "a", " WHERE (a > 10)"));
        t.indexes.push(index("t", "t_expr_idx", "lower(a)", ""));
        let a = catalog(vec![t]);
        let mut t = table(
            "t",
            vec![col("id", "integer", false), col("b", "integer", true)],
        );
        t.checks.push(check("t_b_check", "(b > 0)"));
        t.indexes
            .push(index("t", "t_b_idx", "b", " WHERE (b > 10)"));
        t.indexes.push(index("t", "t_expr_idx", "lower(b)", ""));
        let b = catalog(vec![t]);
        let opts = DiffOptions {
            column_renames: vec![ColumnRename {
                schema: "public".into(),
                table: "t".into(),
                from: "a".into(),
                to: "b".into(),
            }],
            ..DiffOptions::default()
        };
        let plan = diff(&a, &b, &opts).unwrap();
        assert_eq!(
            ups(&plan),
            [
                r#"ALTER TABLE "public"."t" RENAME COLUMN "a" TO "b""#,
                r#"ALTER TABLE "public"."t" RENAME CONSTRAINT "t_a_check" TO "t_b_check""#,
                r#"ALTER INDEX "public"."t_a_idx" RENAME TO "t_b_idx""#,
            ]
        );
        assert_eq!(
            plan.steps[0].down,
            [
                r#"ALTER INDEX "public"."t_b_idx" RENAME TO "t_a_idx""#,
                r#"ALTER TABLE "public"."t" RENAME CONSTRAINT "t_b_check" TO "t_a_check""#,
                r#"ALTER TABLE "public"."t" RENAME COLUMN "b" TO "a""#,
            ]
        );
    }

    #[test]
    fn an_index_on_a_dropped_column_goes_in_the_transaction_before_it() {
        let mut t = table(
            "t",
            vec![col("id", "integer", false), col("x", "text", true)],
        );
        t.indexes.push(index("t", "t_x_idx", "lower(x)", ""));
        let a = catalog(vec![t]);
        let b = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        let plan = diff(&a, &b, &allow()).unwrap();
        assert!(plan.scripts(Phase::Online).is_none());
        assert_eq!(
            ups(&plan),
            [
                r#"DROP INDEX IF EXISTS "public"."t_x_idx""#,
                r#"ALTER TABLE "public"."t" DROP COLUMN "x""#,
            ]
        );
        // Down: the column first, then its index.
        let down = plan.scripts(Phase::Transactional).unwrap().down;
        assert!(
            down.find("ADD COLUMN").unwrap() < down.find("CREATE INDEX t_x_idx").unwrap(),
            "{down}"
        );
    }

    #[test]
    fn an_index_whose_definition_changes_is_rebuilt() {
        let mut t = table("t", vec![col("id", "integer", false)]);
        t.indexes.push(index("t", "t_id_idx", "id", ""));
        let a = catalog(vec![t.clone()]);
        t.indexes[0] = index("t", "t_id_idx", "id DESC", "");
        let b = catalog(vec![t.clone()]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(
            ups(&plan),
            [
                r#"DROP INDEX CONCURRENTLY IF EXISTS "public"."t_id_idx""#,
                "CREATE INDEX CONCURRENTLY t_id_idx ON public.t USING btree (id DESC)",
            ]
        );
        // An invalid one (a failed concurrent build) too.
        let mut invalid = b.clone();
        invalid.tables[0].indexes[0].valid = false;
        assert_eq!(
            diff(&invalid, &b, &DiffOptions::default())
                .unwrap()
                .steps
                .len(),
            2
        );
    }

    #[test]
    fn an_identity_on_a_nullable_column_sets_not_null_first_and_continues_the_values() {
        let a = catalog(vec![table("t", vec![col("id", "integer", true)])]);
        let mut id = col("id", "integer", false);
        id.identity = Some(Identity::Always);
        let b = catalog(vec![table("t", vec![id])]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(plan.steps.len(), 1, "no separate NOT NULL steps");
        assert_eq!(
            plan.steps[0].up,
            [
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" SET NOT NULL"#,
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" ADD GENERATED ALWAYS AS IDENTITY"#,
                r#"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('"public"."t"', 'id'), max("id")) FROM "public"."t" HAVING max("id") >= 1"#,
            ]
        );
        assert_eq!(
            plan.steps[0].down,
            [
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" DROP IDENTITY"#,
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" DROP NOT NULL"#,
            ]
        );
    }

    #[test]
    fn added_and_dropped_columns_keep_their_comments() {
        let a = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        let mut x = col("x", "text", true);
        x.comment = Some("X.".into());
        let b = catalog(vec![table("t", vec![col("id", "integer", false), x])]);
        let comment = r#"COMMENT ON COLUMN "public"."t"."x" IS 'X.'"#;
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(plan.steps[0].up[1], comment);
        let plan = diff(&b, &a, &allow()).unwrap();
        assert_eq!(plan.steps[0].down[1], comment);
    }

    #[test]
    fn primary_keys_and_not_null() {
        // A new primary key makes its columns NOT NULL: no online step, and its down makes
        // them nullable again.
        let mut nopk = table("t", vec![col("id", "integer", true)]);
        nopk.primary_key = None;
        let pk = table("t", vec![col("id", "integer", false)]);
        let plan = diff(
            &catalog(vec![nopk.clone()]),
            &catalog(vec![pk.clone()]),
            &DiffOptions::default(),
        )
        .unwrap();
        assert!(plan.scripts(Phase::Online).is_none(), "{plan:?}");
        assert_eq!(
            plan.steps[0].down,
            [
                r#"ALTER TABLE "public"."t" DROP CONSTRAINT "t_pkey""#,
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" DROP NOT NULL"#,
            ]
        );
        // Dropping it and NOT NULL: the key first.
        let plan = diff(
            &catalog(vec![pk]),
            &catalog(vec![nopk]),
            &DiffOptions::default(),
        )
        .unwrap();
        assert_eq!(
            ups(&plan),
            [
                r#"ALTER TABLE "public"."t" DROP CONSTRAINT "t_pkey""#,
                r#"ALTER TABLE "public"."t" ALTER COLUMN "id" DROP NOT NULL"#,
            ]
        );
    }

    #[test]
    fn schemas_that_go_away_are_dropped_last() {
        let mut a = catalog(vec![]);
        a.schemas.push("app".into());
        let mut t = table("t", vec![col("id", "integer", false)]);
        t.schema = "app".into();
        a.tables.push(t);
        let b = catalog(vec![]);
        let plan = diff(&a, &b, &allow()).unwrap();
        assert_eq!(
            ups(&plan),
            [r#"DROP TABLE "app"."t""#, r#"DROP SCHEMA "app""#]
        );
        assert_eq!(plan.steps[1].down, [r#"CREATE SCHEMA "app""#]);
    }

    #[test]
    fn enum_labels_used_at_once_recreate_the_type() {
        let mood = EnumType {
            schema: "public".into(),
            name: "mood".into(),
            labels: vec!["sad".into()],
        };
        let mut a = catalog(vec![table("t", vec![col("id", "integer", false)])]);
        a.enums.push(mood.clone());
        let mut m = col("m", "mood", true);
        m.default = Some("'happy'::mood".into());
        let mut b = catalog(vec![table("t", vec![col("id", "integer", false), m])]);
        b.enums.push(EnumType {
            labels: vec!["sad".into(), "happy".into()],
            ..mood
        });
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(
            plan.steps[0].summary,
            "recreate enum public.mood to add labels used at once: happy"
        );
        assert!(!plan.steps[0].destructive);
        assert_eq!(
            plan.steps[0].up[1],
            r#"CREATE TYPE "public"."mood" AS ENUM ('sad', 'happy')"#
        );
        assert!(labels_used(&b, &b.enums[0], &[&"happy".to_owned()]));
        assert!(!labels_used(&b, &b.enums[0], &[&"sad".to_owned()]));
        let mut arr = b.clone();
        arr.tables[0].columns[1].default = Some("'{sad,happy}'::mood[]".into());
        assert!(labels_used(&arr, &arr.enums[0], &[&"happy".to_owned()]));
    }

    fn sequence(name: &str, owner: Option<(&str, &str)>) -> Sequence {
        Sequence {
            schema: "public".into(),
            name: name.into(),
            owned_by: owner.map(|(table, column)| OwnedBy {
                schema: "public".into(),
                table: table.into(),
                column: column.into(),
            }),
            data_type: "integer".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: 2147483647,
            cache: 1,
            cycle: false,
        }
    }

    #[test]
    fn serial_sequences_exist_before_their_table_and_are_owned_after_it() {
        let mut id = col("id", "integer", false);
        id.default = Some("nextval('s_id_seq'::regclass)".into());
        let mut b = catalog(vec![table("s", vec![id])]);
        b.sequences.push(sequence("s_id_seq", Some(("s", "id"))));
        let a = catalog(vec![]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        let summaries: Vec<&str> = plan.steps.iter().map(|s| s.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "create sequence public.s_id_seq",
                "create table public.s",
                "attach sequence public.s_id_seq to its column",
            ]
        );
        assert_eq!(
            plan.steps[0].up,
            [concat!(
                r#"CREATE SEQUENCE "public"."s_id_seq" AS integer INCREMENT BY 1 MINVALUE 1 "#,
                "MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE"
            )]
        );
        assert_eq!(
            plan.steps[2].up,
            [r#"ALTER SEQUENCE "public"."s_id_seq" OWNED BY "public"."s"."id""#]
        );
        // Dropped: released first, so that the down script can recreate it before the table.
        let plan = diff(&b, &a, &allow()).unwrap();
        let summaries: Vec<&str> = plan.steps.iter().map(|s| s.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "release sequence public.s_id_seq from its column",
                "drop table public.s",
                "drop sequence public.s_id_seq",
            ]
        );
    }

    #[test]
    fn sequences_the_desired_side_lacks_stay_unless_their_column_goes() {
        let mut id = col("id", "integer", false);
        id.default = Some("nextval('s_id_seq'::regclass)".into());
        let mut a = catalog(vec![table("s", vec![id.clone()])]);
        a.sequences.push(sequence("s_id_seq", Some(("s", "id"))));
        a.sequences.push(sequence("free_seq", None));
        let b = catalog(vec![table("s", vec![id])]);
        assert!(diff(&a, &b, &allow()).unwrap().is_empty());
    }

    #[test]
    fn serial_sequences_follow_a_table_rename() {
        let mut id = col("id", "integer", false);
        id.default = Some("nextval('old_id_seq'::regclass)".into());
        let mut a = catalog(vec![table("old", vec![id.clone()])]);
        a.sequences
            .push(sequence("old_id_seq", Some(("old", "id"))));
        id.default = Some("nextval('new_id_seq'::regclass)".into());
        let mut b = catalog(vec![table("new", vec![id])]);
        b.sequences
            .push(sequence("new_id_seq", Some(("new", "id"))));
        let opts = DiffOptions {
            table_renames: vec![TableRename {
                schema: "public".into(),
                from: "old".into(),
                to: "new".into(),
            }],
            ..DiffOptions::default()
        };
        let plan = diff(&a, &b, &opts).unwrap();
        assert_eq!(plan.steps.len(), 1, "{plan:#?}");
        assert_eq!(
            plan.steps[0].up[2],
            r#"ALTER SEQUENCE "public"."old_id_seq" RENAME TO "new_id_seq""#
        );
    }

    #[test]
    fn not_valid_constraints_are_validated_and_a_match_change_is_seen() {
        let mut t = table(
            "t",
            vec![col("id", "integer", false), col("p", "integer", true)],
        );
        t.checks.push(Check {
            validated: false,
            ..check("t_p_check", "(p > 0)")
        });
        t.foreign_keys.push(ForeignKey {
            validated: false,
            ..fk(
                "t_p_fkey",
                "p",
                "t",
                "FOREIGN KEY (p) REFERENCES t(id) NOT VALID",
            )
        });
        let a = catalog(vec![t.clone()]);
        t.checks[0].validated = true;
        t.foreign_keys[0].validated = true;
        t.foreign_keys[0].definition = "FOREIGN KEY (p) REFERENCES t(id)".into();
        let b = catalog(vec![t.clone()]);
        let plan = diff(&a, &b, &DiffOptions::default()).unwrap();
        assert_eq!(
            ups(&plan),
            [
                r#"ALTER TABLE "public"."t" VALIDATE CONSTRAINT "t_p_check""#,
                r#"ALTER TABLE "public"."t" VALIDATE CONSTRAINT "t_p_fkey""#,
            ]
        );
        assert!(plan.steps.iter().all(|s| s.phase == Phase::Online));
        t.foreign_keys[0].definition = "FOREIGN KEY (p) REFERENCES t(id) MATCH FULL".into();
        let c = catalog(vec![t]);
        let plan = diff(&b, &c, &DiffOptions::default()).unwrap();
        assert_eq!(
            plan.steps[0].summary,
            "drop foreign key t_p_fkey on public.t"
        );
    }
}
