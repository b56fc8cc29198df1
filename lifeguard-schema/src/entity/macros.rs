//! What `table!` generates for the entity layer (`__lg_entity!`), and `partial_model!`.

/// The entity half of a table's module: `Model`, `Record`, `Entity` and their impls.
#[doc(hidden)]
#[macro_export]
macro_rules! __lg_entity {
    // Local names in generated code start with `__lg_`: every column is a unit struct in
    // scope, so a plain local named like a column (`key`, `value`, …) would be read as it.
    ([$($tattr:tt)*] $name:ident [$($pk:ident)+] [$({$col:ident $ty:ty [$($cattr:tt)*]})*]) => {
        /// The table, by its entity-layer name (`users::Entity::find()`).
        pub type Entity = table;

        /// A row of the table, as the entity layer reads it: one public field per column,
        /// typed from the declaration. Serializes as a map of the columns' Rust names.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Model {
            $(
                #[allow(missing_docs)]
                pub $col: <$ty as $crate::sql_types::SqlType>::Rust,
            )*
        }

        /// A change set of a row: each field unset, unchanged (loaded) or set (to write).
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Record {
            $(
                #[allow(missing_docs)]
                pub $col: $crate::entity::Field<<$ty as $crate::sql_types::SqlType>::Rust>,
            )*
            /// The primary key of the row this record was loaded from (or last written as):
            /// updates and deletes find the row by it, so changing a key field re-keys the row.
            #[doc(hidden)]
            pub __lg_loaded_key: ::core::option::Option<<table as $crate::entity::Entity>::Key>,
        }

        impl Record {
            /// A record with every field unset.
            pub fn new() -> Record {
                ::core::default::Default::default()
            }

            /// A record of `model`'s values, all unchanged (to edit an existing row).
            pub fn from_model(__lg_model: Model) -> Record {
                let __lg_key = <table as $crate::entity::Entity>::key_of(&__lg_model);
                Record {
                    $($col: $crate::entity::Field::Unchanged(__lg_model.$col),)*
                    __lg_loaded_key: ::core::option::Option::Some(__lg_key),
                }
            }
        }

        impl ::core::convert::From<Model> for Record {
            fn from(__lg_model: Model) -> Record {
                Record::from_model(__lg_model)
            }
        }

        impl $crate::entity::FromColumns for Model {
            const WIDTH: usize = 0 $(+ { let _ = stringify!($col); 1 })*;
            fn from_columns<__LgR: $crate::entity::ReadColumns>(
                __lg_r: &mut __LgR,
            ) -> ::core::result::Result<Self, __LgR::Error> {
                ::core::result::Result::Ok(Model { $($col: __lg_r.read()?,)* })
            }
        }

        impl $crate::entity::LifeModel for Model {
            type Entity = table;
        }

        impl $crate::query::Queryable<self::SqlType> for Model {
            type Row = $crate::entity::Columns<Model>;
            fn build(__lg_row: $crate::entity::Columns<Model>) -> Model {
                __lg_row.0
            }
        }

        $(
            impl $crate::entity::ModelField for columns::$col {
                fn get(__lg_model: &Model) -> &<$ty as $crate::sql_types::SqlType>::Rust {
                    &__lg_model.$col
                }
            }
        )*

        impl $crate::entity::LifeRecord for Record {
            type Entity = table;

            fn from_model(__lg_model: Model) -> Record {
                Record::from_model(__lg_model)
            }

            #[allow(unused_assignments, unused_mut, unused_variables)]
            fn changes(&self, __lg_out: &mut ::std::vec::Vec<(usize, $crate::query::BoundValue)>) {
                let mut __lg_i = 0usize;
                $(
                    if let $crate::entity::Field::Set(__lg_v) = &self.$col {
                        __lg_out.push((__lg_i, ::std::sync::Arc::new(::core::clone::Clone::clone(__lg_v))));
                    }
                    __lg_i += 1;
                )*
            }

            #[allow(unused_assignments, unused_mut, unused_variables)]
            fn present(&self, __lg_out: &mut ::std::vec::Vec<(usize, $crate::query::BoundValue)>) {
                let mut __lg_i = 0usize;
                $(
                    if let ::core::option::Option::Some(__lg_v) = self.$col.get() {
                        __lg_out.push((__lg_i, ::std::sync::Arc::new(::core::clone::Clone::clone(__lg_v))));
                    }
                    __lg_i += 1;
                )*
            }

            fn key(&self) -> ::core::option::Option<<table as $crate::entity::Entity>::Key> {
                $crate::__lg_entity!(@record_key self [$($pk)+])
            }

            fn loaded_key(&self) -> ::core::option::Option<<table as $crate::entity::Entity>::Key> {
                ::core::clone::Clone::clone(&self.__lg_loaded_key)
            }

            fn is_changed(&self) -> bool {
                false $(|| self.$col.is_set())*
            }

            #[allow(unused_variables)]
            fn validate_fields(&self, __lg_errors: &mut $crate::entity::ValidationErrors) {
                $(
                    if let $crate::entity::Field::Set(__lg_value) = &self.$col {
                        $crate::__lg_entity!(@validate [$($cattr)*] __lg_value stringify!($col), __lg_errors);
                    }
                )*
            }

            fn reset(&mut self, __lg_model: &Model) {
                $(self.$col = $crate::entity::Field::Unchanged(::core::clone::Clone::clone(&__lg_model.$col));)*
                self.__lg_loaded_key = ::core::option::Option::Some(
                    <table as $crate::entity::Entity>::key_of(__lg_model),
                );
            }
        }

        impl $crate::entity::Entity for table {
            type Model = Model;
            type Record = Record;
            type Key = $crate::__lg_entity!(@key_type [$($pk)+]);
            const BEHAVIOR: $crate::entity::Behavior = $crate::entity::Behavior {
                soft_delete: $crate::__lg_entity!(@soft_delete [$($tattr)*]),
                created_at: $crate::__lg_entity!(@created_at [$($tattr)*]),
                updated_at: $crate::__lg_entity!(@updated_at [$($tattr)*]),
            };

            fn key_of(__lg_model: &Model) -> Self::Key {
                $crate::__lg_entity!(@key_of __lg_model [$($pk)+])
            }

            fn key_values(__lg_key: &Self::Key, __lg_out: &mut ::std::vec::Vec<$crate::query::BoundValue>) {
                $crate::__lg_entity!(@key_values __lg_key __lg_out [$($pk)+]);
            }
        }

        impl table {
            /// A query for the table's models (soft-deleted rows left out).
            pub fn find() -> $crate::entity::Find<table> {
                $crate::entity::Find::new()
            }

            /// The row with primary key `key` (a tuple for a composite key).
            pub fn find_by_id(
                __lg_key: impl ::core::convert::Into<<table as $crate::entity::Entity>::Key>,
            ) -> $crate::entity::FindById<table> {
                $crate::entity::FindById::new(__lg_key.into())
            }

            /// Inserts `records` in one statement.
            pub fn insert_many(
                __lg_records: impl ::core::iter::IntoIterator<Item = Record>,
            ) -> $crate::entity::InsertMany<table> {
                $crate::entity::InsertMany::new(__lg_records)
            }

            /// Updates every row a filter selects.
            pub fn update_many() -> $crate::entity::UpdateMany<table> {
                $crate::entity::UpdateMany::new()
            }

            /// Deletes (or soft-deletes) every row a filter selects.
            pub fn delete_many() -> $crate::entity::DeleteMany<table> {
                $crate::entity::DeleteMany::new()
            }
        }

        $crate::__lg_entity! { @single_pk [$($pk)+] }
        $crate::__lg_entity! { @hooks [$($tattr)*] }
        $crate::__lg_entity! { @behavior_checks [$($tattr)*] }

        impl $crate::entity::__private::serde::Serialize for Model {
            fn serialize<__LgS: $crate::entity::__private::serde::Serializer>(
                &self,
                __lg_serializer: __LgS,
            ) -> ::core::result::Result<__LgS::Ok, __LgS::Error> {
                use $crate::entity::__private::serde::ser::SerializeStruct;
                let mut __lg_st = __lg_serializer.serialize_struct(
                    "Model",
                    <Model as $crate::entity::FromColumns>::WIDTH,
                )?;
                $(__lg_st.serialize_field(stringify!($col), &self.$col)?;)*
                __lg_st.end()
            }
        }

        impl<'de> $crate::entity::__private::serde::Deserialize<'de> for Model {
            fn deserialize<__LgD: $crate::entity::__private::serde::Deserializer<'de>>(
                __lg_deserializer: __LgD,
            ) -> ::core::result::Result<Model, __LgD::Error> {
                use $crate::entity::__private::serde as __lg_serde;
                struct __LgSlots {
                    $($col: ::core::option::Option<<$ty as $crate::sql_types::SqlType>::Rust>,)*
                }
                struct __LgVisitor;
                impl<'de> __lg_serde::de::Visitor<'de> for __LgVisitor {
                    type Value = Model;
                    fn expecting(&self, __lg_f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        __lg_f.write_str(concat!("a row of ", stringify!($name), " (a map or a sequence of its columns)"))
                    }
                    #[allow(unused_assignments, unused_mut)]
                    fn visit_seq<__LgA: __lg_serde::de::SeqAccess<'de>>(
                        self,
                        mut __lg_seq: __LgA,
                    ) -> ::core::result::Result<Model, __LgA::Error> {
                        let mut __lg_i = 0usize;
                        ::core::result::Result::Ok(Model {
                            $($col: {
                                let __lg_v = __lg_seq.next_element()?.ok_or_else(|| {
                                    <__LgA::Error as __lg_serde::de::Error>::invalid_length(__lg_i, &self)
                                })?;
                                __lg_i += 1;
                                __lg_v
                            },)*
                        })
                    }
                    fn visit_map<__LgA: __lg_serde::de::MapAccess<'de>>(
                        self,
                        mut __lg_map: __LgA,
                    ) -> ::core::result::Result<Model, __LgA::Error> {
                        let mut __lg_slots = __LgSlots { $($col: ::core::option::Option::None,)* };
                        while let ::core::option::Option::Some(__lg_key) =
                            __lg_map.next_key::<::std::borrow::Cow<'de, str>>()?
                        {
                            match &*__lg_key {
                                $(stringify!($col) => {
                                    if __lg_slots.$col.is_some() {
                                        return ::core::result::Result::Err(
                                            <__LgA::Error as __lg_serde::de::Error>::duplicate_field(stringify!($col)),
                                        );
                                    }
                                    __lg_slots.$col = ::core::option::Option::Some(__lg_map.next_value()?);
                                })*
                                _ => {
                                    __lg_map.next_value::<__lg_serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        ::core::result::Result::Ok(Model {
                            $($col: match __lg_slots.$col {
                                ::core::option::Option::Some(__lg_v) => __lg_v,
                                // A missing nullable column is NULL; any other is an error.
                                ::core::option::Option::None
                                    if <$ty as $crate::sql_types::SqlType>::DESC.nullable =>
                                {
                                    __lg_serde::Deserialize::deserialize(
                                        __lg_serde::de::IntoDeserializer::<__LgA::Error>::into_deserializer(()),
                                    )?
                                }
                                ::core::option::Option::None => {
                                    return ::core::result::Result::Err(
                                        <__LgA::Error as __lg_serde::de::Error>::missing_field(stringify!($col)),
                                    );
                                }
                            },)*
                        })
                    }
                }
                __lg_deserializer.deserialize_struct("Model", &[$(stringify!($col)),*], __LgVisitor)
            }
        }
    };

    // ---- keys ----------------------------------------------------------------------------
    (@key_type [$pk:ident]) => { <<columns::$pk as $crate::meta::Column>::SqlType as $crate::sql_types::SqlType>::Rust };
    (@key_type [$($pk:ident)+]) => { ($(<<columns::$pk as $crate::meta::Column>::SqlType as $crate::sql_types::SqlType>::Rust,)+) };
    (@key_of $m:ident [$pk:ident]) => { ::core::clone::Clone::clone(&$m.$pk) };
    (@key_of $m:ident [$($pk:ident)+]) => { ($(::core::clone::Clone::clone(&$m.$pk),)+) };
    (@record_key $s:ident [$pk:ident]) => { $s.$pk.get().cloned() };
    (@record_key $s:ident [$($pk:ident)+]) => {
        (|| ::core::option::Option::Some(($($s.$pk.get()?.clone(),)+)))()
    };
    (@key_values $k:ident $out:ident [$pk:ident]) => {
        $out.push(::std::sync::Arc::new(::core::clone::Clone::clone($k)))
    };
    (@key_values $k:ident $out:ident [$($pk:ident)+]) => {
        $crate::__lg_entity!(@kv $k $out [$($pk)+] [] [__lg_k0 __lg_k1 __lg_k2 __lg_k3 __lg_k4 __lg_k5 __lg_k6 __lg_k7 __lg_k8 __lg_k9 __lg_k10 __lg_k11 __lg_k12 __lg_k13 __lg_k14 __lg_k15]);
    };
    // Binds the key tuple's parts to fresh names (the column names are unit structs in scope).
    (@kv $k:ident $out:ident [] [$($done:ident)*] [$($names:ident)*]) => {
        let ($($done,)*) = $k;
        $($out.push(::std::sync::Arc::new(::core::clone::Clone::clone($done)));)*
    };
    (@kv $k:ident $out:ident [$p:ident $($rest:ident)*] [$($done:ident)*] [$n:ident $($names:ident)*]) => {
        $crate::__lg_entity!(@kv $k $out [$($rest)*] [$($done)* $n] [$($names)*])
    };
    (@single_pk [$pk:ident]) => {
        impl $crate::entity::SinglePrimaryKey for table {
            type KeyColumn = columns::$pk;
        }
    };
    (@single_pk [$($pk:ident)+]) => {};

    // ---- behaviour attributes ------------------------------------------------------------
    (@soft_delete []) => { ::core::option::Option::None };
    (@soft_delete [[soft_delete($c:ident)] $($rest:tt)*]) => {
        ::core::option::Option::Some(<columns::$c as $crate::meta::Column>::NAME)
    };
    (@soft_delete [$other:tt $($rest:tt)*]) => { $crate::__lg_entity!(@soft_delete [$($rest)*]) };
    (@created_at []) => { ::core::option::Option::None };
    (@created_at [[timestamps($c:ident, $u:ident $(,)?)] $($rest:tt)*]) => {
        ::core::option::Option::Some(<columns::$c as $crate::meta::Column>::NAME)
    };
    (@created_at [$other:tt $($rest:tt)*]) => { $crate::__lg_entity!(@created_at [$($rest)*]) };
    (@updated_at []) => { ::core::option::Option::None };
    (@updated_at [[timestamps($c:ident, $u:ident $(,)?)] $($rest:tt)*]) => {
        ::core::option::Option::Some(<columns::$u as $crate::meta::Column>::NAME)
    };
    (@updated_at [$other:tt $($rest:tt)*]) => { $crate::__lg_entity!(@updated_at [$($rest)*]) };
    (@hooks []) => {
        impl $crate::entity::Hooks for Record {}
    };
    (@hooks [[hooks] $($rest:tt)*]) => {};
    (@hooks [$other:tt $($rest:tt)*]) => { $crate::__lg_entity! { @hooks [$($rest)*] } };
    (@behavior_checks []) => {};
    (@behavior_checks [[soft_delete($c:ident)] $($rest:tt)*]) => {
        const _: fn() = $crate::entity::__private::soft_delete_column::<columns::$c>;
        $crate::__lg_entity! { @behavior_checks [$($rest)*] }
    };
    (@behavior_checks [[timestamps($c:ident, $u:ident $(,)?)] $($rest:tt)*]) => {
        const _: fn() = $crate::entity::__private::timestamp_column::<columns::$c>;
        const _: fn() = $crate::entity::__private::timestamp_column::<columns::$u>;
        $crate::__lg_entity! { @behavior_checks [$($rest)*] }
    };
    (@behavior_checks [$other:tt $($rest:tt)*]) => { $crate::__lg_entity! { @behavior_checks [$($rest)*] } };

    // ---- field validators ----------------------------------------------------------------
    (@validate [] $v:ident $f:expr, $e:ident) => {};
    (@validate [[max_length = $n:literal] $($rest:tt)*] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::Length::new().max($n).check($v, $f, $e);
        $crate::__lg_entity!(@validate [$($rest)*] $v $f, $e);
    };
    (@validate [[validate($($rule:tt)*)] $($rest:tt)*] $v:ident $f:expr, $e:ident) => {
        $crate::__lg_entity!(@rules [$($rule)*] $v $f, $e);
        $crate::__lg_entity!(@validate [$($rest)*] $v $f, $e);
    };
    (@validate [$other:tt $($rest:tt)*] $v:ident $f:expr, $e:ident) => {
        $crate::__lg_entity!(@validate [$($rest)*] $v $f, $e);
    };
    (@rules [] $v:ident $f:expr, $e:ident) => {};
    (@rules [length($($k:ident = $x:expr),* $(,)?) $(, $($rest:tt)*)?] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::Length::new()$(.$k($x))*.check($v, $f, $e);
        $crate::__lg_entity!(@rules [$($($rest)*)?] $v $f, $e);
    };
    (@rules [range($($k:ident = $x:expr),* $(,)?) $(, $($rest:tt)*)?] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::Range::new()$(.$k($x))*.check($v, $f, $e);
        $crate::__lg_entity!(@rules [$($($rest)*)?] $v $f, $e);
    };
    (@rules [email $(, $($rest:tt)*)?] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::email($v, $f, $e);
        $crate::__lg_entity!(@rules [$($($rest)*)?] $v $f, $e);
    };
    (@rules [not_blank $(, $($rest:tt)*)?] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::not_blank($v, $f, $e);
        $crate::__lg_entity!(@rules [$($($rest)*)?] $v $f, $e);
    };
    (@rules [custom = $path:path $(, $($rest:tt)*)?] $v:ident $f:expr, $e:ident) => {
        $crate::entity::validate::custom($v, $path, $f, $e);
        $crate::__lg_entity!(@rules [$($($rest)*)?] $v $f, $e);
    };
    (@rules [$($other:tt)*] $v:ident $f:expr, $e:ident) => {
        ::core::compile_error!(concat!(
            "table!: unknown validation rule `", stringify!($($other)*),
            "`; expected length(min = …, max = …), range(min = …, max = …), email, not_blank or custom = path"
        ));
    };
}

/// Declares a struct over some columns of a table (a partial model), typed from the
/// declaration, so the column types are not repeated (the table's module must be in
/// scope by its name); the entity layer selects only those
/// columns: `users::Entity::find().select_partial::<UserName>()`.
///
/// ```
/// lifeguard_schema::table! { users (id) { id -> Int8, name -> Text, bio -> Nullable<Text>, } }
/// lifeguard_schema::partial_model! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct UserName for users { id, name }
/// }
/// let u = UserName { id: 1, name: "ann".into() };
/// let sql = users::Entity::find().select_partial::<UserName>().to_sql().sql;
/// assert_eq!(sql, r#"SELECT "users"."id", "users"."name" FROM "users""#);
/// ```
#[macro_export]
macro_rules! partial_model {
    ($(#[$meta:meta])* $vis:vis struct $name:ident for $table:ident { $($col:ident),+ $(,)? }) => {
        $(#[$meta])*
        $vis struct $name {
            $(
                #[allow(missing_docs)]
                pub $col: $crate::entity::RustOf<$table::columns::$col>,
            )+
        }

        impl $crate::entity::FromColumns for $name {
            const WIDTH: usize = 0 $(+ { let _ = stringify!($col); 1 })+;
            fn from_columns<__LgR: $crate::entity::ReadColumns>(
                __lg_r: &mut __LgR,
            ) -> ::core::result::Result<Self, __LgR::Error> {
                ::core::result::Result::Ok($name { $($col: __lg_r.read()?,)+ })
            }
        }

        impl $crate::entity::PartialModel for $name {
            type Entity = $table::table;
            fn columns() -> &'static [&'static str] {
                &[$(<$table::columns::$col as $crate::meta::Column>::NAME),+]
            }
        }

        impl $crate::entity::__private::serde::Serialize for $name {
            fn serialize<__LgS: $crate::entity::__private::serde::Serializer>(
                &self,
                __lg_serializer: __LgS,
            ) -> ::core::result::Result<__LgS::Ok, __LgS::Error> {
                use $crate::entity::__private::serde::ser::SerializeStruct;
                let mut __lg_st = __lg_serializer.serialize_struct(
                    stringify!($name),
                    <$name as $crate::entity::FromColumns>::WIDTH,
                )?;
                $(__lg_st.serialize_field(stringify!($col), &self.$col)?;)+
                __lg_st.end()
            }
        }
    };
}
