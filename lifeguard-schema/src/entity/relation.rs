//! Relations between entities: a foreign key column (`#[references(users(id))]` on
//! `posts::author_id`, or a `joinable!`) relates a child table to a parent. From one
//! relation come belongs-to (child to parent), has-many and has-one (parent to children),
//! and many-to-many through a join table (two relations of the join table).

use std::marker::PhantomData;
use std::sync::Arc;

use super::find::column_name;
use super::{Entity, Find, ModelField, RustOf, SinglePrimaryKey};
use crate::meta::{Column, JoinTo, References, Table};
use crate::query::built::Op;
use crate::query::{Built, SqlQuery};

/// A key value's hashable form: the value itself, or nothing for NULL (`Option`).
pub trait KeyPart {
    /// The value compared between parent and child.
    type Key: super::GroupKey;
    /// The key, or `None` for NULL.
    fn key_part(&self) -> Option<Self::Key>;
}

macro_rules! key_parts {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            type Key = $t;
            fn key_part(&self) -> Option<$t> {
                Some(self.clone())
            }
        }
    )*};
}
key_parts!(
    i16,
    i32,
    i64,
    String,
    uuid::Uuid,
    crate::values::Label,
    chrono::NaiveDate,
    bool
);

impl<T: KeyPart> KeyPart for Option<T> {
    type Key = T::Key;
    fn key_part(&self) -> Option<T::Key> {
        self.as_ref().and_then(KeyPart::key_part)
    }
}

/// A child-to-parent relation through one column of the child.
pub trait Relation {
    /// The table holding the foreign key.
    type Child: Entity;
    /// The referenced table.
    type Parent: Entity;
    /// The compared value.
    type Key: super::GroupKey;
    /// The foreign key column's SQL name.
    fn child_column() -> &'static str;
    /// The referenced column's SQL name.
    fn parent_column() -> &'static str;
    /// The child's foreign key value (`None` when NULL).
    fn child_key(child: &<Self::Child as Entity>::Model) -> Option<Self::Key>;
    /// The parent's referenced value.
    fn parent_key(parent: &<Self::Parent as Entity>::Model) -> Option<Self::Key>;
}

/// A column declared `#[references(table(column))]` is a relation.
impl<C> Relation for C
where
    C: References + ModelField,
    C::Target: Entity,
    C::TargetColumn: ModelField,
    RustOf<C>: KeyPart,
    RustOf<C::TargetColumn>: KeyPart<Key = <RustOf<C> as KeyPart>::Key>,
{
    type Child = C::Table;
    type Parent = C::Target;
    type Key = <RustOf<C> as KeyPart>::Key;
    fn child_column() -> &'static str {
        C::NAME
    }
    fn parent_column() -> &'static str {
        <C::TargetColumn as Column>::NAME
    }
    fn child_key(child: &<C::Table as Entity>::Model) -> Option<Self::Key> {
        C::get(child).key_part()
    }
    fn parent_key(parent: &<C::Target as Entity>::Model) -> Option<Self::Key> {
        C::TargetColumn::get(parent).key_part()
    }
}

/// The relation a `joinable!(child -> parent (fk))` declares (the parent's primary key is
/// the referenced column).
pub struct ViaJoin<Child, Parent>(PhantomData<fn() -> (Child, Parent)>);

impl<Child, Parent> Default for ViaJoin<Child, Parent> {
    fn default() -> Self {
        ViaJoin(PhantomData)
    }
}

impl<Child, Parent> Relation for ViaJoin<Child, Parent>
where
    Child: Entity + JoinTo<Parent>,
    Parent: SinglePrimaryKey,
    <Child as JoinTo<Parent>>::ForeignKey: ModelField + Column<Table = Child>,
    RustOf<<Child as JoinTo<Parent>>::ForeignKey>: KeyPart,
    RustOf<Parent::KeyColumn>:
        KeyPart<Key = <RustOf<<Child as JoinTo<Parent>>::ForeignKey> as KeyPart>::Key>,
{
    type Child = Child;
    type Parent = Parent;
    type Key = <RustOf<<Child as JoinTo<Parent>>::ForeignKey> as KeyPart>::Key;
    fn child_column() -> &'static str {
        <<Child as JoinTo<Parent>>::ForeignKey as Column>::NAME
    }
    fn parent_column() -> &'static str {
        <Parent::KeyColumn as Column>::NAME
    }
    fn child_key(child: &Child::Model) -> Option<Self::Key> {
        <Child as JoinTo<Parent>>::ForeignKey::get(child).key_part()
    }
    fn parent_key(parent: &Parent::Model) -> Option<Self::Key> {
        Parent::KeyColumn::get(parent).key_part()
    }
}

/// How a relation is named in `load_many`, `children` and the like: by its foreign key
/// column (`posts::user_id`).
pub struct ByColumn;
/// How a relation is named in `load_many`, `children` and the like: by the other table,
/// related by a `joinable!` (`comments::table`).
pub struct ByJoin;

/// Names a relation from a parent table `P` to its children: a foreign key column of the
/// child table, or a child table that has a `joinable!` to `P`.
pub trait ToChildren<P, D> {
    /// The relation.
    type Rel: Relation<Parent = P>;
}

impl<C: Relation> ToChildren<C::Parent, ByColumn> for C {
    type Rel = C;
}

impl<T, P> ToChildren<P, ByJoin> for T
where
    T: Entity + JoinTo<P>,
    P: Entity,
    ViaJoin<T, P>: Relation<Child = T, Parent = P>,
{
    type Rel = ViaJoin<T, P>;
}

/// Names a relation from a child table `C` to its parent: a foreign key column of `C`, or
/// the parent table, when `C` has a `joinable!` to it.
pub trait ToParent<C, D> {
    /// The relation.
    type Rel: Relation<Child = C>;
}

impl<R: Relation> ToParent<R::Child, ByColumn> for R {
    type Rel = R;
}

impl<P, C> ToParent<C, ByJoin> for P
where
    C: Entity + JoinTo<P>,
    P: Entity,
    ViaJoin<C, P>: Relation<Child = C, Parent = P>,
{
    type Rel = ViaJoin<C, P>;
}

/// `find` restricted to rows whose `column` is one of `keys` (`column = ANY($1)`, one
/// array parameter): the one query of a level of eager loading.
pub fn loader_sql<E: Entity, K: super::GroupKey>(
    find: Find<E>,
    column: &'static str,
    keys: Vec<K>,
) -> SqlQuery {
    let meta = E::meta();
    find.push_filter(Built::col(meta, column_name(meta, column)).eq_any_value(Arc::new(keys)))
        .to_sql()
}

/// The children of `parent` through `R` (has-many, has-one), as a query to refine.
/// A parent whose referenced value is NULL has none.
pub fn children_of<R: Relation>(parent: &<R::Parent as Entity>::Model) -> Find<R::Child> {
    let meta = <R::Child as Table>::meta();
    let col = Built::col(meta, column_name(meta, R::child_column()));
    let cond = match R::parent_key(parent) {
        Some(k) => col.compare(Op::Eq, Arc::new(k)),
        None => Built::new(crate::query::built::Node::Text("false".into())),
    };
    Find::new().push_filter(cond)
}

/// The parent of `child` through `R` (belongs-to), as a query; a child whose foreign key
/// is NULL has none.
pub fn parent_of<R: Relation>(child: &<R::Child as Entity>::Model) -> Find<R::Parent> {
    let meta = <R::Parent as Table>::meta();
    let col = Built::col(meta, column_name(meta, R::parent_column()));
    let cond = match R::child_key(child) {
        Some(k) => col.compare(Op::Eq, Arc::new(k)),
        None => Built::new(crate::query::built::Node::Text("false".into())),
    };
    Find::new().push_filter(cond)
}

/// Direction markers for [`Related`].
pub struct ChildToParent;
/// Direction markers for [`Related`].
pub struct ParentToChild;

/// Two tables related by a `joinable!`, in either direction: `Related<users, _>` for
/// `posts` (its parent) and `Related<posts, _>` for `users` (its children).
pub trait Related<Other: Entity, D>: Entity {
    /// The rows of `Other` related to `model`.
    fn related(model: &Self::Model) -> Find<Other>;
}

impl<C, P> Related<P, ChildToParent> for C
where
    C: Entity + JoinTo<P>,
    P: Entity,
    ViaJoin<C, P>: Relation<Child = C, Parent = P>,
{
    fn related(model: &C::Model) -> Find<P> {
        parent_of::<ViaJoin<C, P>>(model)
    }
}

impl<P, C> Related<C, ParentToChild> for P
where
    P: Entity,
    C: Entity + JoinTo<P>,
    ViaJoin<C, P>: Relation<Child = C, Parent = P>,
{
    fn related(model: &P::Model) -> Find<C> {
        children_of::<ViaJoin<C, P>>(model)
    }
}

/// Many-to-many through a join table: the rows of `find` (over table `B`) related to the
/// `A` rows with `keys`, each with the `A` key it belongs to as the first column:
/// `SELECT j.a, b.* FROM b JOIN j ON j.b = b.key WHERE j.a = ANY($1)`.
pub fn many_to_many_sql<FromA, ToB, K>(find: Find<ToB::Parent>, keys: Vec<K>) -> SqlQuery
where
    FromA: Relation<Key = K>,
    ToB: Relation<Child = FromA::Child>,
    K: super::GroupKey,
{
    let b = <ToB::Parent as Table>::meta();
    let j = <FromA::Child as Table>::meta();
    let ja = column_name(j, FromA::child_column());
    let jb = column_name(j, ToB::child_column());
    let bk = column_name(b, ToB::parent_column());
    let mut q = find.into_query();
    q.core
        .push_inner_join(j, Built::col(j, jb).compare_col(Op::Eq, Built::col(b, bk)));
    if let Some(col) = <FromA::Child as Entity>::BEHAVIOR.soft_delete {
        q.core
            .and_last_join(Built::col(j, column_name(j, col)).null_test(true));
    }
    q.core
        .push_filter(Built::col(j, ja).eq_any_value(Arc::new(keys)));
    let mut list = vec![Built::col(j, ja)];
    for c in b.columns {
        list.push(Built::col(b, c.name));
    }
    q.core.set_select(list);
    q.to_sql()
}

/// The `B` rows linked to `a` through the join table (many-to-many), as a query: `WHERE
/// b.key IN (SELECT j.b FROM j WHERE j.a = $1)`.
pub fn linked_to<FromA, ToB>(a: &<FromA::Parent as Entity>::Model) -> Find<ToB::Parent>
where
    FromA: Relation,
    ToB: Relation<Child = FromA::Child>,
{
    let b = <ToB::Parent as Table>::meta();
    let j = <FromA::Child as Table>::meta();
    let ja = column_name(j, FromA::child_column());
    let jb = column_name(j, ToB::child_column());
    let bk = column_name(b, ToB::parent_column());
    let cond = match FromA::parent_key(a) {
        Some(k) => Built::col(j, ja).compare(Op::Eq, Arc::new(k)),
        None => Built::new(crate::query::built::Node::Text("false".into())),
    };
    let mut sub = Find::<FromA::Child>::new().push_filter(cond).into_query();
    sub.core.set_select(vec![Built::col(j, jb)]);
    Find::new().push_filter(Built::col(b, bk).in_subquery(sub.core))
}
