//! PostgreSQL enum types mapped to Rust enums.

/// Declares a PostgreSQL enum type and the Rust enum that holds its values; the enum is its
/// own SQL type marker, so a column is declared `mood -> Mood`.
///
/// The enum derives `Debug, Clone, Copy, PartialEq, Eq, Hash`; it reads and writes the
/// labels, and its labels (in order) are in the schema metadata for migrations.
///
/// ```
/// lifeguard_schema::sql_enum! {
///     /// How a user feels.
///     pub enum Mood = "mood" {
///         Happy = "happy",
///         Sad = "sad",
///         SoSo = "so-so",
///     }
/// }
/// use lifeguard_schema::sql_types::SqlType;
/// assert_eq!(Mood::DESC.name, "mood");
/// assert_eq!(Mood::DESC.enum_labels, &["happy", "sad", "so-so"]);
/// assert_eq!(Mood::SoSo.label(), "so-so");
/// assert_eq!(Mood::from_label("sad"), Some(Mood::Sad));
/// ```
#[macro_export]
macro_rules! sql_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident = $sql:literal {
        $($(#[$vmeta:meta])* $variant:ident = $label:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The PostgreSQL labels, in declaration order.
            pub const LABELS: &'static [&'static str] = &[$($label),+];

            /// The value's PostgreSQL label.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// The value with PostgreSQL label `label`.
            pub fn from_label(label: &str) -> ::core::option::Option<Self> {
                match label {
                    $($label => ::core::option::Option::Some($name::$variant),)+
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl $crate::sql_types::SqlType for $name {
            const DESC: $crate::sql_types::TypeDesc = $crate::sql_types::TypeDesc {
                name: $sql,
                nullable: false,
                array_dims: 0,
                enum_labels: &[$($label),+],
            };
            type NotNull = Self;
            type IntoNullable = $crate::sql_types::Nullable<Self>;
            type Rust = Self;
        }

        impl $crate::entity::__private::serde::Serialize for $name {
            fn serialize<S: $crate::entity::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.label())
            }
        }

        impl<'de> $crate::entity::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::entity::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let label: ::std::string::String =
                    $crate::entity::__private::serde::Deserialize::deserialize(deserializer)?;
                $name::from_label(&label).ok_or_else(|| {
                    <D::Error as $crate::entity::__private::serde::de::Error>::custom(
                        ::std::format!("`{}` is not a label of enum {}", label, $sql),
                    )
                })
            }
        }

        impl $crate::query::__private::postgres_types::ToSql for $name {
            fn to_sql(
                &self,
                _ty: &$crate::query::__private::postgres_types::Type,
                out: &mut $crate::query::__private::postgres_types::private::BytesMut,
            ) -> ::core::result::Result<
                $crate::query::__private::postgres_types::IsNull,
                ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>,
            > {
                out.extend_from_slice(self.label().as_bytes());
                ::core::result::Result::Ok($crate::query::__private::postgres_types::IsNull::No)
            }

            fn accepts(ty: &$crate::query::__private::postgres_types::Type) -> bool {
                ty.name() == $sql
            }

            $crate::query::__private::postgres_types::to_sql_checked!();
        }

        impl<'a> $crate::query::__private::postgres_types::FromSql<'a> for $name {
            fn from_sql(
                _ty: &$crate::query::__private::postgres_types::Type,
                raw: &'a [u8],
            ) -> ::core::result::Result<
                Self,
                ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>,
            > {
                let text = ::core::str::from_utf8(raw)?;
                $name::from_label(text).ok_or_else(|| {
                    ::std::format!("`{}` is not a label of enum {}", text, $sql).into()
                })
            }

            fn accepts(ty: &$crate::query::__private::postgres_types::Type) -> bool {
                ty.name() == $sql
            }
        }

        $crate::__lg_value_type!($name => $name);
    };
}
