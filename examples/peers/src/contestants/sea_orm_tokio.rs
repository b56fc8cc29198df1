//! SeaORM over sqlx-postgres, on a current-thread tokio runtime: entities with relations,
//! `find`, `find_also_related`, `insert_many`, and the loader (`load_many`) for the
//! associations.

use sea_orm::{ActiveValue::NotSet, ColumnTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, EntityTrait, LoaderTrait, QueryFilter, Set,
};
use tokio::runtime::Runtime;

use crate::BoxError;
use crate::model;
use crate::suite::{Contestant, Measured, Timing, Workload, timed_async};

pub mod users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::posts::Entity")]
        Posts,
    }

    impl Related<super::posts::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Posts.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod posts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: i32,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::users::Entity",
            from = "Column::UserId",
            to = "super::users::Column::Id"
        )]
        Users,
        #[sea_orm(has_many = "super::comments::Entity")]
        Comments,
    }

    impl Related<super::users::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Users.def()
        }
    }

    impl Related<super::comments::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comments.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub post_id: i32,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::posts::Entity",
            from = "Column::PostId",
            to = "super::posts::Column::Id"
        )]
        Posts,
    }

    impl Related<super::posts::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Posts.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user with its posts with their comments.
type UserTree = (users::Model, Vec<(posts::Model, Vec<comments::Model>)>);

pub struct SeaOrm {
    rt: Runtime,
    db: DatabaseConnection,
}

impl SeaOrm {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(super::POOL_SIZE as u32)
            .sqlx_logging(false);
        let db = rt.block_on(Database::connect(opts))?;
        Ok(SeaOrm { rt, db })
    }
}

async fn trivial(db: &DatabaseConnection) -> Result<usize, BoxError> {
    Ok(users::Entity::find().all(db).await?.len())
}

async fn medium(db: &DatabaseConnection) -> Result<usize, BoxError> {
    let rows: Vec<(users::Model, Option<posts::Model>)> = users::Entity::find()
        .find_also_related(posts::Entity)
        .filter(users::Column::HairColor.eq("black"))
        .all(db)
        .await?;
    Ok(rows.len())
}

async fn insert(db: &DatabaseConnection, n: usize) -> Result<usize, BoxError> {
    let rows = model::insert_rows(n)
        .into_iter()
        .map(|(name, hair)| users::ActiveModel {
            id: NotSet,
            name: Set(name),
            hair_color: Set(hair),
        });
    let inserted = users::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(inserted as usize)
}

async fn associations(db: &DatabaseConnection) -> Result<usize, BoxError> {
    let users = users::Entity::find().all(db).await?;
    let posts: Vec<Vec<posts::Model>> = users.load_many(posts::Entity, db).await?;
    let flat: Vec<posts::Model> = posts.iter().flatten().cloned().collect();
    let comments: Vec<Vec<comments::Model>> = flat.load_many(comments::Entity, db).await?;
    let mut comments = comments.into_iter();
    let loaded: Vec<UserTree> = users
        .into_iter()
        .zip(posts)
        .map(|(u, ps)| {
            let ps = ps
                .into_iter()
                .map(|p| (p, comments.next().unwrap_or_default()))
                .collect();
            (u, ps)
        })
        .collect();
    Ok(loaded
        .iter()
        .flat_map(|(_, ps)| ps.iter().map(|(_, cs)| cs.len()))
        .sum())
}

impl Contestant for SeaOrm {
    fn name(&self) -> &'static str {
        "sea-orm"
    }

    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError> {
        let db = &self.db;
        self.rt.block_on(async move {
            match w {
                Workload::Trivial => timed_async(t, || trivial(db)).await,
                Workload::Medium => timed_async(t, || medium(db)).await,
                Workload::Insert(n) => timed_async(t, || insert(db, n)).await,
                Workload::Associations => timed_async(t, || associations(db)).await,
            }
        })
    }
}
