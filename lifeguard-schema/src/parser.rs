//! Reads `table!` declarations from a `schema.rs` file into the [model](crate::model), for
//! tools that cannot compile the file (the CLI). It understands the same grammar as the
//! macro, resolves names the same way, and reports anything it cannot read as
//! `file:line:column: message`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Item, LitStr, Meta, Token};

use crate::meta::{Deferrable, FkAction, Identity};
use crate::model::{ColumnDef, ForeignKeyDef, IndexDef, ReferenceDef, TableDef};

/// Something in a schema file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Reads every table declared in the file at `path` (including in inline modules).
pub fn parse_schema_file(path: &Path) -> Result<Vec<TableDef>, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        file: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
    })?;
    parse_schema(&text, path)
}

/// Reads every table declared in `text` (`path` names it in errors).
pub fn parse_schema(text: &str, path: &Path) -> Result<Vec<TableDef>, ParseError> {
    let err = |e: syn::Error| {
        let start = e.span().start();
        ParseError {
            file: path.to_owned(),
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
        }
    };
    let file = syn::parse_file(text).map_err(err)?;
    let mut raw = Vec::new();
    let mut user_types = HashMap::new();
    collect(&file.items, &mut raw, &mut user_types).map_err(err)?;
    resolve(raw, &user_types).map_err(err)
}

/// A type declared in the file with `sql_type!` or `sql_enum!`, by its Rust name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UserType {
    /// The PostgreSQL name.
    name: String,
    /// The labels of an `sql_enum!`, in order; empty for an `sql_type!`.
    labels: Vec<String>,
}

/// A table as written, before names and types are resolved.
struct RawTable {
    def: TableDef,
    types: Vec<syn::Type>,
    /// Table-level attributes, read once every table is known.
    attrs: Vec<Attribute>,
    /// Column attributes that name other tables (`references`), per column index.
    refs: Vec<(usize, Attribute)>,
}

fn macro_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn collect(
    items: &[Item],
    out: &mut Vec<RawTable>,
    types: &mut HashMap<String, UserType>,
) -> syn::Result<()> {
    for item in items {
        match item {
            Item::Macro(m) => match macro_name(&m.mac).as_str() {
                "table" => out.extend(parse_tables.parse2(m.mac.tokens.clone())?),
                "sql_type" => {
                    let (ident, name) = parse_sql_type.parse2(m.mac.tokens.clone())?;
                    types.insert(
                        ident,
                        UserType {
                            name,
                            labels: Vec::new(),
                        },
                    );
                }
                "sql_enum" => {
                    let (ident, ty) = parse_sql_enum.parse2(m.mac.tokens.clone())?;
                    types.insert(ident, ty);
                }
                _ => {}
            },
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(items, out, types)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_sql_type(input: ParseStream) -> syn::Result<(String, String)> {
    input.call(Attribute::parse_outer)?;
    let ident: Ident = input.parse()?;
    input.parse::<Token![=]>()?;
    let name: LitStr = input.parse()?;
    Ok((ident.to_string(), name.value()))
}

/// `#[attrs] vis enum Name = "sql_name" { #[attrs] Variant = "label", ... }`, as
/// [`sql_enum!`](crate::sql_enum) takes it.
fn parse_sql_enum(input: ParseStream) -> syn::Result<(String, UserType)> {
    input.call(Attribute::parse_outer)?;
    input.parse::<syn::Visibility>()?;
    input.parse::<Token![enum]>()?;
    let ident: Ident = input.parse()?;
    input.parse::<Token![=]>()?;
    let name: LitStr = input.parse()?;
    let body;
    let brace = syn::braced!(body in input);
    let mut labels = Vec::new();
    while !body.is_empty() {
        body.call(Attribute::parse_outer)?;
        body.parse::<Ident>()?;
        body.parse::<Token![=]>()?;
        labels.push(body.parse::<LitStr>()?.value());
        if !body.is_empty() {
            body.parse::<Token![,]>()?;
        }
    }
    if labels.is_empty() {
        return Err(syn::Error::new(
            brace.span.join(),
            format!("enum `{ident}` has no variants"),
        ));
    }
    Ok((
        ident.to_string(),
        UserType {
            name: name.value(),
            labels,
        },
    ))
}

fn parse_tables(input: ParseStream) -> syn::Result<Vec<RawTable>> {
    while input.peek(Token![use]) {
        input.parse::<syn::ItemUse>()?;
    }
    let mut tables = Vec::new();
    while !input.is_empty() {
        tables.push(parse_table(input)?);
    }
    Ok(tables)
}

fn parse_table(input: ParseStream) -> syn::Result<RawTable> {
    let attrs = input.call(Attribute::parse_outer)?;
    let first: Ident = input.parse()?;
    let (schema, name) = if input.peek(Token![.]) {
        input.parse::<Token![.]>()?;
        let name: Ident = input.parse()?;
        (Some(first.to_string()), name)
    } else {
        (None, first)
    };
    let pk: Vec<Ident> = if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        Punctuated::<Ident, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect()
    } else {
        vec![Ident::new("id", Span::call_site())]
    };
    let body;
    syn::braced!(body in input);
    let mut columns = Vec::new();
    let mut types = Vec::new();
    let mut refs = Vec::new();
    while !body.is_empty() {
        let col_attrs = body.call(Attribute::parse_outer)?;
        let ident = body.call(syn::ext::IdentExt::parse_any)?;
        body.parse::<Token![->]>()?;
        let ty: syn::Type = body.parse()?;
        if !body.is_empty() {
            body.parse::<Token![,]>()?;
        }
        let mut col = column_from_attrs(&ident, &col_attrs)?;
        for a in col_attrs {
            if a.path().is_ident("references") {
                refs.push((columns.len(), a));
            }
        }
        col.rust_name = ident.to_string();
        columns.push(col);
        types.push(ty);
    }
    let mut def = TableDef {
        schema,
        name: name.to_string(),
        rust_name: name.to_string(),
        primary_key: Vec::new(),
        columns,
        docs: Vec::new(),
        renamed_from: None,
        indexes: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
    };
    for a in &attrs {
        match a.path().get_ident().map(Ident::to_string).as_deref() {
            Some("sql_name") => def.name = str_value(a)?,
            Some("doc") => def.docs.push(str_value(a)?),
            Some("renamed_from") => def.renamed_from = Some(str_value(a)?),
            Some("unique" | "check" | "index" | "foreign_key") => {}
            // Entity behaviour: no effect on the database schema.
            Some("soft_delete" | "timestamps" | "hooks") => {}
            _ => return Err(syn::Error::new_spanned(a, "unknown table attribute")),
        }
    }
    for k in &pk {
        let c = sql_column(&def, k)?;
        def.primary_key.push(c);
    }
    Ok(RawTable {
        def,
        types,
        attrs,
        refs,
    })
}

fn str_value(a: &Attribute) -> syn::Result<String> {
    match &a.meta {
        Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Ok(s.value()),
            other => Err(syn::Error::new_spanned(other, "expected a string literal")),
        },
        _ => Err(syn::Error::new_spanned(a, "expected `#[name = \"value\"]`")),
    }
}

fn column_from_attrs(ident: &Ident, attrs: &[Attribute]) -> syn::Result<ColumnDef> {
    let mut c = ColumnDef {
        name: ident.to_string(),
        rust_name: ident.to_string(),
        type_name: String::new(),
        enum_labels: Vec::new(),
        nullable: false,
        array_dims: 0,
        max_length: None,
        docs: Vec::new(),
        default: None,
        identity: None,
        generated: None,
        unique: false,
        check: None,
        references: None,
        renamed_from: None,
    };
    for a in attrs {
        let key = a
            .path()
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        match (key.as_str(), &a.meta) {
            ("sql_name", _) => c.name = str_value(a)?,
            ("doc", _) => c.docs.push(str_value(a)?),
            ("default", _) => c.default = Some(str_value(a)?),
            ("generated", _) => c.generated = Some(str_value(a)?),
            ("check", _) => c.check = Some(str_value(a)?),
            ("renamed_from", _) => c.renamed_from = Some(str_value(a)?),
            ("unique", Meta::Path(_)) => c.unique = true,
            ("identity", Meta::Path(_)) => c.identity = Some(Identity::ByDefault),
            ("identity", _) => {
                c.identity = Some(match str_value(a)?.as_str() {
                    "always" => Identity::Always,
                    "by default" => Identity::ByDefault,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            a,
                            "identity is \"always\" or \"by default\"",
                        ));
                    }
                })
            }
            ("max_length", Meta::NameValue(nv)) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) => c.max_length = Some(n.base10_parse()?),
                other => return Err(syn::Error::new_spanned(other, "expected an integer")),
            },
            ("references", Meta::List(_)) => {}
            // Entity validators: no effect on the database schema.
            ("validate", Meta::List(_)) => {}
            _ => return Err(syn::Error::new_spanned(a, "unknown column attribute")),
        }
    }
    Ok(c)
}

/// The SQL name of the column whose Rust name is `rust`.
fn sql_column(t: &TableDef, rust: &Ident) -> syn::Result<String> {
    t.columns
        .iter()
        .find(|c| *rust == c.rust_name)
        .map(|c| c.name.clone())
        .ok_or_else(|| {
            syn::Error::new(
                rust.span(),
                format!("table `{}` has no column `{rust}`", t.rust_name),
            )
        })
}

fn resolve(raw: Vec<RawTable>, user: &HashMap<String, UserType>) -> syn::Result<Vec<TableDef>> {
    let known: Vec<TableDef> = raw.iter().map(|r| r.def.clone()).collect();
    let find = |name: &Ident| -> syn::Result<&TableDef> {
        known
            .iter()
            .find(|t| *name == t.rust_name)
            .ok_or_else(|| syn::Error::new(name.span(), format!("no table `{name}` in this file")))
    };
    let mut out = Vec::with_capacity(raw.len());
    for r in &raw {
        let mut def = r.def.clone();
        for (col, ty) in def.columns.iter_mut().zip(&r.types) {
            resolve_type(ty, col, user)?;
        }
        for (i, a) in &r.refs {
            let reference = a.parse_args_with(|input: ParseStream| {
                let table: Ident = input.parse()?;
                let content;
                syn::parenthesized!(content in input);
                let column: Ident = content.parse()?;
                let opts = parse_options(input)?;
                let target = find(&table)?;
                Ok(ReferenceDef {
                    schema: target.schema.clone(),
                    table: target.name.clone(),
                    column: sql_column(target, &column)?,
                    on_delete: opts.on_delete,
                    on_update: opts.on_update,
                    deferrable: opts.deferrable,
                })
            })?;
            def.columns[*i].references = Some(reference);
        }
        for a in &r.attrs {
            let key = a
                .path()
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "unique" => def.uniques.push(a.parse_args_with(|input: ParseStream| {
                    let name = parse_name_prefix(input)?;
                    let cols = Punctuated::<Ident, Token![,]>::parse_terminated(input)?;
                    let cols = cols
                        .iter()
                        .map(|c| sql_column(&r.def, c))
                        .collect::<syn::Result<_>>()?;
                    Ok((name, cols))
                })?),
                "check" => def.checks.push(a.parse_args_with(|input: ParseStream| {
                    let name = parse_name_prefix(input)?;
                    let expr: LitStr = input.parse()?;
                    input.parse::<Option<Token![,]>>()?;
                    Ok((name, expr.value()))
                })?),
                "index" => def
                    .indexes
                    .push(a.parse_args_with(|input: ParseStream| parse_index(input, &r.def))?),
                "foreign_key" => {
                    def.foreign_keys
                        .push(a.parse_args_with(|input: ParseStream| {
                            let content;
                            syn::parenthesized!(content in input);
                            let cols = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                            let kw: Ident = input.parse()?;
                            if kw != "references" {
                                return Err(syn::Error::new(kw.span(), "expected `references`"));
                            }
                            let table: Ident = input.parse()?;
                            let target = find(&table)?;
                            let content;
                            syn::parenthesized!(content in input);
                            let ref_cols =
                                Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                            let opts = parse_options(input)?;
                            Ok(ForeignKeyDef {
                                name: opts.name,
                                columns: cols
                                    .iter()
                                    .map(|c| sql_column(&r.def, c))
                                    .collect::<syn::Result<_>>()?,
                                ref_schema: target.schema.clone(),
                                ref_table: target.name.clone(),
                                ref_columns: ref_cols
                                    .iter()
                                    .map(|c| sql_column(target, c))
                                    .collect::<syn::Result<_>>()?,
                                on_delete: opts.on_delete,
                                on_update: opts.on_update,
                                deferrable: opts.deferrable,
                            })
                        })?)
                }
                _ => {}
            }
        }
        out.push(def);
    }
    Ok(out)
}

/// An optional leading `name = "...",`.
fn parse_name_prefix(input: ParseStream) -> syn::Result<Option<String>> {
    if input.peek(Ident) && input.peek2(Token![=]) {
        let key: Ident = input.parse()?;
        if key != "name" {
            return Err(syn::Error::new(key.span(), "expected `name = \"...\"`"));
        }
        input.parse::<Token![=]>()?;
        let v: LitStr = input.parse()?;
        input.parse::<Token![,]>()?;
        return Ok(Some(v.value()));
    }
    Ok(None)
}

#[derive(Default)]
struct Options {
    name: Option<String>,
    on_delete: FkAction,
    on_update: FkAction,
    deferrable: Deferrable,
}

/// `, key = value` pairs after a reference.
fn parse_options(input: ParseStream) -> syn::Result<Options> {
    let mut o = Options::default();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "name" => o.name = Some(input.parse::<LitStr>()?.value()),
            "on_delete" => o.on_delete = action(&input.parse()?)?,
            "on_update" => o.on_update = action(&input.parse()?)?,
            "deferrable" => {
                let v: Ident = input.parse()?;
                o.deferrable = match v.to_string().as_str() {
                    "initially_deferred" => Deferrable::InitiallyDeferred,
                    "initially_immediate" => Deferrable::InitiallyImmediate,
                    _ => {
                        return Err(syn::Error::new(
                            v.span(),
                            "expected initially_deferred or initially_immediate",
                        ));
                    }
                };
            }
            _ => return Err(syn::Error::new(key.span(), "unknown foreign key option")),
        }
    }
    Ok(o)
}

fn action(v: &Ident) -> syn::Result<FkAction> {
    Ok(match v.to_string().as_str() {
        "no_action" => FkAction::NoAction,
        "restrict" => FkAction::Restrict,
        "cascade" => FkAction::Cascade,
        "set_null" => FkAction::SetNull,
        "set_default" => FkAction::SetDefault,
        _ => {
            return Err(syn::Error::new(
                v.span(),
                "expected no_action, restrict, cascade, set_null or set_default",
            ));
        }
    })
}

fn parse_index(input: ParseStream, table: &TableDef) -> syn::Result<IndexDef> {
    let mut ix = IndexDef {
        name: None,
        keys: Vec::new(),
        unique: false,
        method: None,
        include: Vec::new(),
        predicate: None,
    };
    loop {
        if input.is_empty() {
            break;
        }
        if input.peek(Token![where]) {
            input.parse::<Token![where]>()?;
            input.parse::<Token![=]>()?;
            ix.predicate = Some(input.parse::<LitStr>()?.value());
        } else {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "unique" => ix.unique = true,
                "on" => {
                    let content;
                    syn::parenthesized!(content in input);
                    while !content.is_empty() {
                        if content.peek(LitStr) {
                            ix.keys.push(content.parse::<LitStr>()?.value());
                        } else {
                            ix.keys.push(sql_column(table, &content.parse()?)?);
                        }
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                }
                "include" => {
                    let content;
                    syn::parenthesized!(content in input);
                    for c in Punctuated::<Ident, Token![,]>::parse_terminated(&content)? {
                        ix.include.push(sql_column(table, &c)?);
                    }
                }
                "using" => {
                    input.parse::<Token![=]>()?;
                    ix.method = Some(input.parse::<LitStr>()?.value());
                }
                "name" => {
                    input.parse::<Token![=]>()?;
                    ix.name = Some(input.parse::<LitStr>()?.value());
                }
                _ => return Err(syn::Error::new(key.span(), "unknown index option")),
            }
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(ix)
}

/// Fills `col`'s type from its declaration (`Nullable<Array<Text>>`, `Mood` ...).
fn resolve_type(
    ty: &syn::Type,
    col: &mut ColumnDef,
    user: &HashMap<String, UserType>,
) -> syn::Result<()> {
    let syn::Type::Path(p) = ty else {
        return Err(syn::Error::new_spanned(
            ty,
            "expected a SQL type such as `Int4`",
        ));
    };
    let seg = p
        .path
        .segments
        .last()
        .ok_or_else(|| syn::Error::new_spanned(ty, "empty type"))?;
    let inner = || -> syn::Result<&syn::Type> {
        match &seg.arguments {
            syn::PathArguments::AngleBracketed(a) => match a.args.first() {
                Some(syn::GenericArgument::Type(t)) => Ok(t),
                _ => Err(syn::Error::new_spanned(seg, "expected one type argument")),
            },
            _ => Err(syn::Error::new_spanned(seg, "expected one type argument")),
        }
    };
    let ident = seg.ident.to_string();
    match ident.as_str() {
        "Nullable" => {
            resolve_type(inner()?, col, user)?;
            col.nullable = true;
        }
        "Array" => {
            resolve_type(inner()?, col, user)?;
            col.array_dims += 1;
            col.nullable = false;
        }
        other => match base_type(other) {
            Some(n) => {
                col.type_name = n.to_owned();
                col.enum_labels = Vec::new();
            }
            None => {
                let t = user.get(other).ok_or_else(|| {
                    syn::Error::new_spanned(
                        seg,
                        format!(
                            "unknown SQL type `{other}` (declare it with sql_type! or sql_enum!)"
                        ),
                    )
                })?;
                col.type_name = t.name.clone();
                col.enum_labels = t.labels.clone();
            }
        },
    }
    Ok(())
}

/// The PostgreSQL name of a built-in marker (see [`crate::sql_types`]).
fn base_type(marker: &str) -> Option<&'static str> {
    Some(match marker {
        "Bool" => "bool",
        "Int2" | "SmallInt" => "int2",
        "Int4" | "Integer" => "int4",
        "Int8" | "BigInt" => "int8",
        "Float4" | "Float" => "float4",
        "Float8" | "Double" => "float8",
        "Numeric" | "Decimal" => "numeric",
        "Text" => "text",
        "Varchar" | "VarChar" => "varchar",
        "Bytea" | "Binary" => "bytea",
        "Date" => "date",
        "Time" => "time",
        "Timestamp" => "timestamp",
        "Timestamptz" => "timestamptz",
        "Interval" => "interval",
        "Uuid" => "uuid",
        "Json" => "json",
        "Jsonb" => "jsonb",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<TableDef>, ParseError> {
        parse_schema(text, Path::new("schema.rs"))
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sql_enum_gives_the_column_its_name_and_labels() {
        let tables = parse(
            r#"
pub mod sql_types {
    lifeguard::sql_enum! {
        /// How a user feels.
        #[allow(dead_code)]
        pub enum Mood = "mood" {
            Happy = "happy",
            /// Not happy.
            #[allow(dead_code)]
            Sad = "sad",
            SoSo = "so-so",
        }
    }
    lifeguard_schema::sql_enum! {
        enum Size = "shirt size" { Small = "s", Large = "l" }
    }
    sql_enum! {
        pub(crate) enum Level = "level" { Low = "low" }
    }
    lifeguard::sql_type!(Point = "point");
}

lifeguard::table! {
    use lifeguard::sql_types::*;
    use super::sql_types::Mood;

    people (id) {
        id -> Int4,
        mood -> Mood,
        moods -> Nullable<Array<Mood>>,
        size -> crate::sql_types::Size,
        level -> Nullable<Level>,
        at -> Point,
        name -> Text,
    }
}
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cols = &tables[0].columns;
        let got: Vec<(&str, &str, bool, u8, Vec<String>)> = cols
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.type_name.as_str(),
                    c.nullable,
                    c.array_dims,
                    c.enum_labels.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("id", "int4", false, 0, labels(&[])),
                ("mood", "mood", false, 0, labels(&["happy", "sad", "so-so"])),
                ("moods", "mood", true, 1, labels(&["happy", "sad", "so-so"])),
                ("size", "shirt size", false, 0, labels(&["s", "l"])),
                ("level", "level", true, 0, labels(&["low"])),
                ("at", "point", false, 0, labels(&[])),
                ("name", "text", false, 0, labels(&[])),
            ]
        );
    }

    #[allow(dead_code)]
    mod compiled {
        crate::sql_enum! {
            pub enum Mood = "mood" { Happy = "happy", Sad = "sad" }
        }
        crate::table! {
            use crate::sql_types::*;
            use super::Mood;
            people (id) {
                id -> Int4,
                mood -> Mood,
                moods -> Nullable<Array<Mood>>,
            }
        }
    }

    #[test]
    fn the_compiled_enum_and_the_parsed_enum_agree() {
        let parsed = parse(
            r#"
lifeguard_schema::sql_enum! {
    pub enum Mood = "mood" { Happy = "happy", Sad = "sad" }
}
lifeguard_schema::table! {
    use lifeguard_schema::sql_types::*;
    use super::Mood;
    people (id) {
        id -> Int4,
        mood -> Mood,
        moods -> Nullable<Array<Mood>>,
    }
}
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        use crate::meta::Table;
        assert_eq!(parsed, [TableDef::from(compiled::people::table::meta())]);
    }

    #[test]
    fn a_malformed_sql_enum_is_located() {
        // A variant without its label.
        let e = parse(
            "lifeguard::sql_enum! {\n    pub enum Mood = \"mood\" {\n        Happy = \"happy\",\n        Sad,\n    }\n}\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 12), "{e}");
        assert!(
            e.to_string().starts_with("schema.rs:4:12: expected `=`"),
            "{e}"
        );

        // A label that is not a string.
        let e = parse("lifeguard::sql_enum! {\n    enum Mood = \"mood\" { Happy = 1 }\n}\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (2, 34), "{e}");
        assert!(e.to_string().starts_with("schema.rs:2:34: "), "{e}");

        // No SQL name.
        let e = parse("sql_enum! { enum Mood { Happy = \"happy\" } }").unwrap_err();
        assert_eq!((e.line, e.column), (1, 23), "{e}");
        assert!(e.message.contains("expected `=`"), "{e}");

        // No variants.
        let e = parse("sql_enum! { enum Mood = \"mood\" {} }").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("no variants"), "{e}");
    }

    #[test]
    fn an_undeclared_enum_is_an_unknown_type() {
        let e = parse("lifeguard::table! {\n    t (id) {\n        id -> Int4,\n        mood -> Mood,\n    }\n}\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (4, 17), "{e}");
        assert!(e.message.contains("sql_enum!"), "{e}");
    }
}
