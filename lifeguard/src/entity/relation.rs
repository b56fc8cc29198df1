//! Relations at run time: lazy (`children`, `parent`, `linked`, `find_related`) and eager
//! loading, one query per level, never one per row.
//!
//! A relation is a foreign-key column: `posts::author_id` declared
//! `#[references(users(id))]` relates posts (children) to users (parents). A `joinable!`
//! relates two tables too (`find_related`). Many-to-many goes through a join table's two
//! foreign keys.
//!
//! ```no_run
//! use lifeguard::entity::prelude::*;
//!
//! mod schema {
//!     lifeguard::table! {
//!         users (id) { id -> Int4, name -> Text, }
//!         posts (id) {
//!             id -> Int4,
//!             #[references(users(id))]
//!             user_id -> Int4,
//!             title -> Text,
//!         }
//!         comments (id) {
//!             id -> Int4,
//!             #[references(posts(id))]
//!             post_id -> Int4,
//!             text -> Text,
//!         }
//!     }
//! }
//! use schema::*;
//!
//! # let pool = lifeguard::LifeguardPool::connect("postgres://localhost/app")?;
//! // Three queries for three levels, however many rows:
//! let users = users::Entity::find().all(&pool)?;
//! let posts = users.load_many(posts::user_id, &pool)?; // Vec<Vec<posts::Model>>
//! let comments = posts.load_many(comments::post_id, &pool)?; // Vec<Vec<Vec<comments::Model>>>
//!
//! // Lazily, from one row:
//! let first_posts = users[0].children(posts::user_id).all(&pool)?;
//! let author = first_posts[0].parent(posts::user_id).one(&pool)?;
//! # Ok::<(), lifeguard::Error>(())
//! ```

// Eager loading returns groups of groups of models; the nesting is the point.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;

use lifeguard_schema::entity::{
    Entity, Find, FromColumns, LifeModel, Related, Relation, ToChildren, ToParent, children_of,
    linked_to, loader_sql, many_to_many_sql, parent_of,
};

use super::{RowReader, load_models};

/// The model of a relation's child table.
pub type ChildModel<R> = <<R as Relation>::Child as Entity>::Model;
/// The model of a relation's parent table.
pub type ParentModel<R> = <<R as Relation>::Parent as Entity>::Model;
use crate::client::Result;
use crate::executor::LifeExecutor;
use crate::query::with_params;

/// Relations and writes from a model (`users::Model`).
pub trait ModelExt: LifeModel {
    /// The rows of the child table that reference this one through `relation` (has-many;
    /// for has-one, `.one(db)`), as a query to refine.
    fn children<R, D>(&self, relation: R) -> Find<<R::Rel as Relation>::Child>
    where
        R: ToChildren<Self::Entity, D>,
    {
        let _ = relation;
        children_of::<R::Rel>(self)
    }

    /// The row this one references through `relation` (belongs-to), as a query
    /// (`.one(db)`); none when the foreign key is NULL.
    fn parent<R, D>(&self, relation: R) -> Find<<R::Rel as Relation>::Parent>
    where
        R: ToParent<Self::Entity, D>,
    {
        let _ = relation;
        parent_of::<R::Rel>(self)
    }

    /// The rows linked to this one through a join table (many-to-many): `from` is the join
    /// table's key to this table, `to` its key to the other:
    /// `post.linked(post_tags::post_id, post_tags::tag_id)`.
    fn linked<A, B>(&self, from: A, to: B) -> Find<B::Parent>
    where
        A: Relation<Parent = Self::Entity>,
        B: Relation<Child = A::Child>,
    {
        let _ = (from, to);
        linked_to::<A, B>(self)
    }

    /// The related rows of `other`, a table related to this one by a `joinable!` (in
    /// either direction), as a query.
    fn find_related<O: Entity, D>(&self, other: O) -> Find<O>
    where
        Self::Entity: Related<O, D>,
    {
        let _ = other;
        <Self::Entity as Related<O, D>>::related(self)
    }

    /// A record of this row's values, all unchanged, to edit and write back.
    fn into_record(self) -> <Self::Entity as Entity>::Record {
        lifeguard_schema::entity::LifeRecord::from_model(self)
    }
}

impl<M: LifeModel> ModelExt for M {}

/// Puts each child under every parent whose key it carries (in the children's order).
fn group<K: std::hash::Hash + Eq, C: Clone>(
    parent_keys: impl Iterator<Item = Option<K>>,
    children: Vec<(K, C)>,
) -> Vec<Vec<C>> {
    let mut slots: HashMap<K, Vec<usize>> = HashMap::new();
    let mut out: Vec<Vec<C>> = Vec::new();
    for (i, k) in parent_keys.enumerate() {
        out.push(Vec::new());
        if let Some(k) = k {
            slots.entry(k).or_default().push(i);
        }
    }
    for (k, c) in children {
        if let Some((&last, others)) = slots.get(&k).and_then(|o| o.split_last()) {
            // A parent listed more than once gets a copy; the last one gets the row itself.
            for &o in others {
                out[o].push(c.clone());
            }
            out[last].push(c);
        }
    }
    out
}

/// Each key once, in first-seen order (NULLs left out).
fn distinct_keys<K: Clone + std::hash::Hash + Eq>(keys: impl Iterator<Item = Option<K>>) -> Vec<K> {
    let mut seen = std::collections::HashSet::new();
    keys.flatten().filter(|k| seen.insert(k.clone())).collect()
}

fn load_children<M, R>(
    models: &[&M],
    children: Find<R::Child>,
    db: &impl LifeExecutor,
) -> Result<Vec<Vec<ChildModel<R>>>>
where
    M: LifeModel,
    R: Relation<Parent = M::Entity>,
{
    let keys = distinct_keys(models.iter().map(|m| R::parent_key(m)));
    if keys.is_empty() {
        return Ok(models.iter().map(|_| Vec::new()).collect());
    }
    let q = loader_sql(children, R::child_column(), keys);
    let rows: Vec<ChildModel<R>> = load_models(db, &q)?;
    let keyed = rows
        .into_iter()
        .filter_map(|c| R::child_key(&c).map(|k| (k, c)))
        .collect();
    Ok(group(models.iter().map(|m| R::parent_key(m)), keyed))
}

fn load_parents<M, R>(models: &[&M], db: &impl LifeExecutor) -> Result<Vec<Option<ParentModel<R>>>>
where
    M: LifeModel,
    R: Relation<Child = M::Entity>,
{
    let keys = distinct_keys(models.iter().map(|m| R::child_key(m)));
    if keys.is_empty() {
        return Ok(models.iter().map(|_| None).collect());
    }
    let q = loader_sql(Find::<R::Parent>::new(), R::parent_column(), keys);
    let parents: Vec<ParentModel<R>> = load_models(db, &q)?;
    let by_key: HashMap<R::Key, ParentModel<R>> = parents
        .into_iter()
        .filter_map(|p| R::parent_key(&p).map(|k| (k, p)))
        .collect();
    Ok(models
        .iter()
        .map(|c| R::child_key(c).and_then(|k| by_key.get(&k).cloned()))
        .collect())
}

/// The child table of the relation `R` names.
pub type ChildOf<R, P, D> = <<R as ToChildren<P, D>>::Rel as Relation>::Child;

/// Eager loading from a slice of models: one query for the whole slice. A relation is named
/// by its foreign key column (`posts::user_id`) or, for a `joinable!`, by the other table
/// (`comments::table`).
pub trait LoaderExt<M: LifeModel> {
    /// Each model's children through `relation` (has-many), in the children's query order:
    /// `SELECT … FROM child WHERE fk = ANY($1)`.
    fn load_many<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<ChildModel<R::Rel>>>>
    where
        R: ToChildren<M::Entity, D>,
    {
        self.load_many_with(relation, Find::new(), db)
    }

    /// [`load_many`](LoaderExt::load_many) with the children's query refined (filtered,
    /// ordered).
    fn load_many_with<R, D>(
        &self,
        relation: R,
        children: Find<ChildOf<R, M::Entity, D>>,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<ChildModel<R::Rel>>>>
    where
        R: ToChildren<M::Entity, D>;

    /// Each model's parent through `relation` (belongs-to): `None` for a NULL foreign key.
    fn load_one<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Option<ParentModel<R::Rel>>>>
    where
        R: ToParent<M::Entity, D>;

    /// Each model's linked rows through a join table (many-to-many), in one query joining
    /// the join table: `from` is the join table's key to this table, `to` its key to the
    /// other.
    fn load_many_to_many<A, B>(
        &self,
        from: A,
        to: B,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<ParentModel<B>>>>
    where
        A: Relation<Parent = M::Entity>,
        B: Relation<Child = A::Child>,
        A::Key: for<'a> crate::client::FromSql<'a>;
}

impl<M: LifeModel> LoaderExt<M> for [M] {
    fn load_many_with<R, D>(
        &self,
        relation: R,
        children: Find<ChildOf<R, M::Entity, D>>,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<ChildModel<R::Rel>>>>
    where
        R: ToChildren<M::Entity, D>,
    {
        let _ = relation;
        let refs: Vec<&M> = self.iter().collect();
        load_children::<M, R::Rel>(&refs, children, db)
    }

    fn load_one<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Option<ParentModel<R::Rel>>>>
    where
        R: ToParent<M::Entity, D>,
    {
        let _ = relation;
        let refs: Vec<&M> = self.iter().collect();
        load_parents::<M, R::Rel>(&refs, db)
    }
    fn load_many_to_many<A, B>(
        &self,
        from: A,
        to: B,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<ParentModel<B>>>>
    where
        A: Relation<Parent = M::Entity>,
        B: Relation<Child = A::Child>,
        A::Key: for<'a> crate::client::FromSql<'a>,
    {
        let _ = (from, to);
        let keys = distinct_keys(self.iter().map(A::parent_key));
        if keys.is_empty() {
            return Ok(self.iter().map(|_| Vec::new()).collect());
        }
        let q = many_to_many_sql::<A, B, A::Key>(Find::new(), keys);
        let rows = with_params(&q, |p| db.query(&q.sql, p))?;
        let mut keyed = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut r = RowReader::new(row);
            let k: A::Key = lifeguard_schema::entity::ReadColumns::read(&mut r)?;
            keyed.push((k, ParentModel::<B>::from_columns(&mut r)?));
        }
        Ok(group(self.iter().map(A::parent_key), keyed))
    }
}

/// Eager loading one level deeper: from the groups a [`LoaderExt`] call returned (e.g.
/// each user's posts), still one query for all of them, grouped the same way.
pub trait NestedLoaderExt<M: LifeModel> {
    /// Each model's children through `relation`, for every group.
    fn load_many<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<Vec<ChildModel<R::Rel>>>>>
    where
        R: ToChildren<M::Entity, D>;

    /// Each model's parent through `relation`, for every group.
    fn load_one<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<Option<ParentModel<R::Rel>>>>>
    where
        R: ToParent<M::Entity, D>;
}

/// Splits `flat` back into groups of the sizes of `groups`.
fn regroup<M, T>(groups: &[Vec<M>], flat: Vec<T>) -> Vec<Vec<T>> {
    let mut it = flat.into_iter();
    groups
        .iter()
        .map(|g| it.by_ref().take(g.len()).collect())
        .collect()
}

impl<M: LifeModel> NestedLoaderExt<M> for [Vec<M>] {
    fn load_many<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<Vec<ChildModel<R::Rel>>>>>
    where
        R: ToChildren<M::Entity, D>,
    {
        let _ = relation;
        let flat: Vec<&M> = self.iter().flatten().collect();
        let loaded = load_children::<M, R::Rel>(&flat, Find::new(), db)?;
        Ok(regroup(self, loaded))
    }

    fn load_one<R, D>(
        &self,
        relation: R,
        db: &impl LifeExecutor,
    ) -> Result<Vec<Vec<Option<ParentModel<R::Rel>>>>>
    where
        R: ToParent<M::Entity, D>,
    {
        let _ = relation;
        let flat: Vec<&M> = self.iter().flatten().collect();
        let loaded = load_parents::<M, R::Rel>(&flat, db)?;
        Ok(regroup(self, loaded))
    }
}
