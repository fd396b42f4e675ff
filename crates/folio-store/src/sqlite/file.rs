//! Serving an existing SQLite database as it is: `folio serve --sqlite FILE`.
//!
//! Every table and view becomes a collection of the same name. A record is a row as a JSON
//! object of its columns. The id is the table's single-column primary key, else its rowid
//! (then added to each record as `rowid`); a view's id is its first column, served only if
//! that column is unique and never NULL. Indexed paths are the columns that lead an index;
//! the other columns are listed as not sortable. The file is opened read-only: folio writes
//! nothing to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use folio_engine::schema::validate_collection_name;
use folio_engine::{CollectionSchema, Column, FieldType, IdType, IndexedPath, Plan, Value};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, OpenFlags};

use super::json::{self, Form};
use super::page::{self, Docs, Held, State, Table};
use super::pool::{self, Pool};
use super::raw::{self, Row};
use super::sql::{self, Elements, Layout, Nulls};
use crate::sql::catalog;
use crate::totals::Totals;
use crate::{CollectionInfo, Count, PageResult, Query, Store, StoreError};

/// The collections of an SQLite file that folio reads but does not own.
pub struct SqliteFileStore {
    path: PathBuf,
    readers: Arc<Pool>,
    collections: HashMap<String, Arc<Collection>>,
    skipped: Vec<(String, String)>,
    totals: Arc<Totals>,
}

impl std::fmt::Debug for SqliteFileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteFileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// One served table or view.
#[derive(Debug)]
struct Collection {
    schema: Arc<CollectionSchema>,
    sql_name: String,
    /// The id column's quoted name (`rowid` when the id is the rowid).
    id_column: String,
    /// Whether the id is the rowid, which records then carry as `rowid`.
    rowid: bool,
    /// Every column, in the table's order.
    columns: Vec<FileColumn>,
    /// The quoted name and nullability of each indexed path, in schema order.
    indexed: Vec<(String, bool)>,
    unindexed: Vec<(String, String)>,
    /// What a whole record is written from, worked out at its first record.
    members: OnceLock<Vec<Member>>,
}

/// One member of the records of a collection: its key and where its value is selected.
#[derive(Debug)]
struct Member {
    /// `"name":` (after a comma, but for the first member), escaped once for every record.
    prefix: Vec<u8>,
    /// The position of its value among the selected document columns.
    index: usize,
    /// How its values are written ([`FileColumn::form`]).
    form: Form,
}

/// One column of a served table or view, as records hold it.
#[derive(Debug)]
struct FileColumn {
    /// Its name: the member of each record that holds it.
    name: String,
    /// Its quoted SQL name.
    quoted: String,
    /// How records hold its values, decided on a sample when the file is opened: text that
    /// is JSON arrays or objects as JSON (a value that is not JSON after all is served as the
    /// text it is), the 0 and 1 of a `BOOLEAN` column as `false` and `true` (any other value
    /// as it is), the rest as stored.
    form: Form,
}

impl SqliteFileStore {
    /// Opens `file` read-only and works out what it can serve.
    pub fn open(file: &Path) -> Result<SqliteFileStore, StoreError> {
        if !file.is_file() {
            return Err(StoreError::Unavailable(format!(
                "{} is not a file; --sqlite takes the path of an existing SQLite database",
                file.display()
            )));
        }
        let readers = (0..pool::default_size())
            .map(|_| open_reader(file))
            .collect::<Result<Vec<_>, _>>()?;
        let mut collections = HashMap::new();
        let mut skipped = Vec::new();
        {
            let conn = &readers[0];
            let objects: Vec<(String, String)> = conn
                .prepare(
                    "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') \
                     AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (name, kind) in objects {
                match describe(conn, &name, kind == "view")? {
                    Ok(c) => {
                        collections.insert(name, Arc::new(c));
                    }
                    Err(reason) => skipped.push((name, reason)),
                }
            }
        }
        Ok(SqliteFileStore {
            path: file.to_owned(),
            readers: Arc::new(Pool::new(readers)),
            collections,
            skipped,
            totals: Arc::default(),
        })
    }

    /// Tables and views that are not served, with why.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    fn collection(&self, name: &str) -> Result<Arc<Collection>, StoreError> {
        self.collections
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::UnknownCollection(name.to_owned()))
    }
}

fn open_reader(file: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    // The whole file mapped, as the embedded store's readers map theirs (SQLite caps this at
    // its compile-time maximum, 2 GiB): rows are read in place instead of copied into each
    // connection's cache by a `pread` per b-tree page. Read-only, the mapping is read-only
    // too, and the pragma only sets this connection's limit: nothing is written to the file.
    conn.pragma_update(None, "mmap_size", i64::MAX)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// A column as `pragma_table_info` describes it: name, declared type, not null, and its
/// position in the primary key (0 when not in it).
type ColumnInfo = (String, String, bool, i64);

/// Works out how to serve one table or view, or why it cannot be.
fn describe(conn: &Connection, name: &str, view: bool) -> Result<Result<Collection, String>, StoreError> {
    if validate_collection_name(name).is_err() {
        return Ok(Err("its name is not 1 to 64 ASCII letters, digits, `_` or `-`".into()));
    }
    let quoted = sql::ident(name);
    let columns: Vec<ColumnInfo> = conn
        .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    if columns.is_empty() {
        return Ok(Err("it has no columns".into()));
    }
    let (id_name, id_type, rowid) = match identify(conn, &quoted, &columns, view)? {
        Ok(id) => id,
        Err(reason) => return Ok(Err(reason)),
    };
    let found = Found {
        leading: if view {
            HashMap::new()
        } else {
            let declared = columns.iter().find(|c| c.0 == id_name).map_or("", |c| c.1.as_str());
            let id_is_rowid = rowid || declared.eq_ignore_ascii_case("INTEGER");
            leading_columns(conn, name, &id_name, id_is_rowid)?
        },
        sampled: sample(conn, &quoted, &columns)?,
        id_name: &id_name,
        columns: &columns,
    };
    let (indexed, indexed_sql, unindexed) = paths(name, &found);
    let schema = CollectionSchema {
        name: name.to_owned(),
        id_path: id_name.clone(),
        id_type,
        indexed,
    };
    Ok(Ok(Collection {
        schema: Arc::new(schema),
        sql_name: quoted,
        id_column: sql::ident(&id_name),
        rowid,
        columns: columns
            .iter()
            .zip(&found.sampled)
            .map(|((n, declared, _, _), sampled)| FileColumn {
                name: n.clone(),
                quoted: sql::ident(n),
                form: form(declared, sampled),
            })
            .collect(),
        indexed: indexed_sql,
        unindexed,
        members: OnceLock::new(),
    }))
}

/// The id of a table or view: its column's name, its type, and whether it is the rowid; or
/// why it has none folio can use.
fn identify(
    conn: &Connection,
    quoted: &str,
    columns: &[ColumnInfo],
    view: bool,
) -> Result<Result<(String, IdType, bool), String>, StoreError> {
    let pk: Vec<&ColumnInfo> = columns.iter().filter(|c| c.3 > 0).collect();
    let has_rowid = !view && conn.prepare(&format!("SELECT rowid FROM {quoted} LIMIT 0")).is_ok();
    let (id_name, id_type, rowid) = if view {
        let first = &columns[0];
        let q = sql::ident(&first.0);
        let unique: bool = conn.query_row(
            &format!("SELECT count({q}) = count(*) AND count(DISTINCT {q}) = count(*) FROM {quoted}"),
            [],
            |r| r.get(0),
        )?;
        if !unique {
            return Ok(Err(format!(
                "its first column `{}` is not unique and non-null, so it cannot be the id",
                first.0
            )));
        }
        (first.0.clone(), affinity(&first.1), false)
    } else if pk.len() == 1 && !has_rowid_alias_conflict(&pk[0].1) {
        (pk[0].0.clone(), affinity(&pk[0].1), false)
    } else if has_rowid {
        ("rowid".to_owned(), Some(FieldType::Integer), true)
    } else {
        return Ok(Err("it has a composite primary key and no rowid".into()));
    };
    Ok(match id_type {
        Some(FieldType::Integer) => Ok((id_name, IdType::Integer, rowid)),
        Some(FieldType::String) => Ok((id_name, IdType::String, rowid)),
        _ => Err(format!("its id column `{id_name}` is neither INTEGER nor TEXT")),
    })
}

/// The columns that lead an index of table `name` (those can be sorted and filtered on by
/// seeking), each with whether its index keeps ties on the id in the opposite direction
/// (`(c DESC, id)`; see [`IndexedPath::ties_reversed`]). Where several indexes lead with a
/// column, one that keeps ties the same way wins. `id` is the id column's name, and
/// `id_is_rowid` whether its values are the rowid (the rowid or an `INTEGER PRIMARY KEY`),
/// which every index of a rowid table ends with.
fn leading_columns(
    conn: &Connection,
    name: &str,
    id: &str,
    id_is_rowid: bool,
) -> Result<HashMap<String, bool>, StoreError> {
    let mut leading = HashMap::new();
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM pragma_index_list(?1)")?
        .query_map([name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for index in indexes {
        // The first two columns: (cid, name, desc); the rowid has cid -1 and no name.
        let first_two: Vec<(i64, Option<String>, bool)> = conn
            .prepare("SELECT cid, name, \"desc\" FROM pragma_index_xinfo(?1) WHERE seqno < 2 ORDER BY seqno")?
            .query_map([&index], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some((_, Some(column), first_desc)) = first_two.first() else {
            continue;
        };
        let ties_reversed = match first_two.get(1) {
            Some((cid, second, desc)) if second.as_deref() == Some(id) || (*cid == -1 && id_is_rowid) => {
                first_desc != desc
            }
            _ => false,
        };
        let entry = leading.entry(column.clone()).or_insert(ties_reversed);
        *entry &= ties_reversed;
    }
    Ok(leading)
}

/// What [`describe`] found out about a table's columns.
struct Found<'a> {
    columns: &'a [ColumnInfo],
    id_name: &'a str,
    /// The columns that lead an index, with whether it keeps ties on the id reversed.
    leading: HashMap<String, bool>,
    /// What the first rows hold, column by column.
    sampled: Vec<Sample>,
}

/// What a column of JSON text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonText {
    /// Arrays of strings: a `string[]` path, filtered with `json_each`.
    Strings,
    /// Objects, or arrays of other values: served as JSON, not a path.
    Other,
}

/// The values of one column in the first rows of a table.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    integers: bool,
    /// Whether an integer was neither 0 nor 1.
    other_integers: bool,
    reals: bool,
    texts: bool,
    blobs: bool,
    /// What every text was, while all of them were JSON arrays or objects.
    json: Option<JsonText>,
    /// Whether a text was not a JSON array or object.
    plain_text: bool,
}

impl Sample {
    fn add(&mut self, value: ValueRef<'_>) {
        match value {
            ValueRef::Null => {}
            ValueRef::Integer(i) => {
                self.integers = true;
                self.other_integers |= !matches!(i, 0 | 1);
            }
            ValueRef::Real(_) => self.reals = true,
            ValueRef::Blob(_) => self.blobs = true,
            ValueRef::Text(t) => {
                self.texts = true;
                match json_text(t) {
                    Some(JsonText::Other) => self.json = Some(JsonText::Other),
                    Some(JsonText::Strings) => {
                        self.json.get_or_insert(JsonText::Strings);
                    }
                    None => self.plain_text = true,
                }
            }
        }
    }

    /// What records hold as JSON: a column whose sampled values are all JSON arrays or
    /// objects written as text (at least one of them).
    fn json(&self) -> Option<JsonText> {
        let only_json = self.texts && !self.plain_text && !self.integers && !self.reals && !self.blobs;
        self.json.filter(|_| only_json)
    }

    /// Whether every value is 0, 1 or NULL: what a column of booleans holds.
    fn booleans(&self) -> bool {
        !self.other_integers && !self.reals && !self.texts && !self.blobs
    }

    /// The type the values have, for a column declared without one (a view's expression):
    /// integers, numbers or texts, when they are all of one kind.
    fn observed(&self) -> Option<FieldType> {
        match (self.integers, self.reals, self.texts, self.blobs) {
            (true, false, false, false) => Some(FieldType::Integer),
            (_, true, false, false) => Some(FieldType::Float),
            (false, false, true, false) => Some(FieldType::String),
            _ => None,
        }
    }
}

/// How many rows of a table are read when it is opened, to tell what its columns hold.
const SAMPLE_ROWS: usize = 1000;

/// What the first [`SAMPLE_ROWS`] rows hold, column by column. The sample is then trusted:
/// a later value that is not JSON in a column of JSON is served as the text it is.
fn sample(conn: &Connection, quoted: &str, columns: &[ColumnInfo]) -> Result<Vec<Sample>, StoreError> {
    let select: Vec<String> = columns.iter().map(|c| sql::ident(&c.0)).collect();
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {quoted} LIMIT {SAMPLE_ROWS}",
        select.join(", ")
    ))?;
    let mut sampled = vec![Sample::default(); columns.len()];
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        for (i, sample) in sampled.iter_mut().enumerate() {
            sample.add(row.get_ref(i)?);
        }
    }
    Ok(sampled)
}

/// What a text holds, if it is a JSON array or object.
fn json_text(text: &[u8]) -> Option<JsonText> {
    if !matches!(text.trim_ascii_start().first(), Some(b'[' | b'{')) {
        return None;
    }
    match serde_json::from_slice::<serde_json::Value>(text).ok()? {
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => Some(JsonText::Strings),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Some(JsonText::Other),
        _ => None,
    }
}

/// The paths of a table's columns (with their quoted names and nullability), and the columns
/// that cannot be paths with why. Columns that no index starts with are paths too, marked
/// unindexed: filters on them scan the table, and the advice names the index that would
/// make them sortable. Columns of JSON arrays of strings are `string[]` paths.
fn paths(table: &str, found: &Found<'_>) -> Paths {
    let mut indexed = Vec::new();
    let mut indexed_sql = Vec::new();
    let mut unusable = Vec::new();
    for ((column, declared, not_null, _), sampled) in found.columns.iter().zip(&found.sampled) {
        if column == found.id_name {
            continue;
        }
        let declared_type = column_type(declared, sampled);
        let ty = match (sampled.json(), declared_type) {
            _ if column.contains('.') => {
                unusable.push((
                    column.clone(),
                    "its name holds a dot, which paths use as a separator".to_owned(),
                ));
                continue;
            }
            (Some(JsonText::Strings), _) => FieldType::StringArray,
            (Some(JsonText::Other), _) => {
                let reason =
                    "it holds JSON objects or arrays of other values than strings: served as JSON, not filtered on";
                unusable.push((column.clone(), reason.to_owned()));
                continue;
            }
            (None, Some(ty)) => ty,
            (None, None) => {
                let reason = if declared.is_empty() {
                    "it has no declared type, and its values are not all integers, numbers or texts".to_owned()
                } else if affinity(declared) == Some(FieldType::Boolean) {
                    format!(
                        "it is declared `{declared}` but holds other values than 0 and 1, not all integers, numbers or texts"
                    )
                } else {
                    format!("its declared type `{declared}` has no ordering folio can use")
                };
                unusable.push((column.clone(), reason));
                continue;
            }
        };
        let mut path = IndexedPath::new(column.clone(), ty);
        if ty == FieldType::StringArray {
            path.unindexed = Some("its elements are JSON text, which no index serves".to_owned());
        } else {
            match found.leading.get(column) {
                Some(&reversed) => path.ties_reversed = reversed,
                None => path.unindexed = Some(format!("`{}` would make it sortable", create_index(table, column))),
            }
        }
        indexed.push(path);
        indexed_sql.push((sql::ident(column), !not_null));
    }
    (indexed, indexed_sql, unusable)
}

/// The type of a column's path: the declared type's, but for a column declared without a type
/// (a view's expression) and a `BOOLEAN` column that holds other values than 0 and 1 (SQLite
/// keeps whatever it is given), which have the type their sampled values have.
fn column_type(declared: &str, sampled: &Sample) -> Option<FieldType> {
    match affinity(declared) {
        _ if declared.is_empty() => sampled.observed(),
        Some(FieldType::Boolean) if !sampled.booleans() => sampled.observed(),
        ty => ty,
    }
}

/// How records hold a column's values: as [`column_type`] types its path, so that records,
/// filters, sorts, cursors and search-after keys agree (booleans are `true`/`false` in all).
fn form(declared: &str, sampled: &Sample) -> Form {
    if sampled.json().is_some() {
        Form::Json
    } else if column_type(declared, sampled) == Some(FieldType::Boolean) {
        Form::Boolean
    } else {
        Form::Plain
    }
}

/// The statement that indexes `column` of `table`.
pub(crate) fn create_index(table: &str, column: &str) -> String {
    let name = sql::ident(&format!("{table}_{column}"));
    format!("CREATE INDEX {name} ON {} ({})", sql::ident(table), sql::ident(column))
}

/// What [`paths`] finds.
type Paths = (Vec<IndexedPath>, Vec<(String, bool)>, Vec<(String, String)>);

/// A primary key column declared with a type SQLite cannot order usefully (a BLOB key).
fn has_rowid_alias_conflict(declared: &str) -> bool {
    affinity(declared).is_none()
}

/// The engine type for a declared SQLite column type, by SQLite's affinity rules; `None`
/// for BLOB affinity (or no type), whose values folio cannot order.
fn affinity(declared: &str) -> Option<FieldType> {
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        // SQLite keeps booleans as 0 and 1, which is how the engine keeps them too; records
        // hold them as `false` and `true` ([`Form::Boolean`]).
        Some(FieldType::Boolean)
    } else if t.contains("INT") {
        Some(FieldType::Integer)
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Some(FieldType::String)
    } else if t.contains("BLOB") || t.is_empty() {
        None
    } else {
        // REAL, FLOAT, DOUBLE and NUMERIC affinity: numbers, compared as such.
        Some(FieldType::Float)
    }
}

impl Layout for Collection {
    fn column(&self, c: Column) -> String {
        match c {
            Column::Id => self.id_column.clone(),
            Column::Indexed(n) => self.indexed[n].0.clone(),
        }
    }
    fn nulls(&self) -> Nulls {
        Nulls::Sql
    }
    fn nullable(&self, c: Column) -> bool {
        match c {
            Column::Id => false,
            Column::Indexed(n) => self.indexed[n].1,
        }
    }
    fn elements(&self, _: usize) -> Elements {
        Elements::Json
    }
}

impl Docs for Collection {
    fn select(&self, fields: Option<&[String]>, _: &mut Vec<Sql>) -> Vec<String> {
        let mut select: Vec<String> = self
            .doc_columns(fields)
            .map(|(_, quoted, _)| quoted.to_owned())
            .collect();
        if select.is_empty() {
            select.push("NULL".to_owned());
        }
        select
    }

    /// Writes the document as serde_json wrote the `Map` of the row's columns: members in
    /// column order, a name selected twice (`rowid` and a column of that name) where it first
    /// appears, with the value selected last. Values in `held` are not read again.
    fn write_doc(
        &self,
        row: &Row<'_>,
        start: usize,
        held: &Held<'_>,
        fields: Option<&[String]>,
        out: &mut Vec<u8>,
    ) -> rusqlite::Result<()> {
        let projected;
        let members = match fields {
            None => self.members.get_or_init(|| self.members_of(None)),
            Some(_) => {
                projected = self.members_of(fields);
                &projected
            }
        };
        out.push(b'{');
        for m in members {
            out.extend_from_slice(&m.prefix);
            let value = match held.get(m.index) {
                Some(value) => value,
                None => row.get(start + m.index)?,
            };
            json::write_value(out, value, m.form).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl Collection {
    /// The members of the documents projected to `fields`.
    fn members_of(&self, fields: Option<&[String]>) -> Vec<Member> {
        let mut members: Vec<(&str, Member)> = Vec::new();
        for (index, (name, _, form)) in self.doc_columns(fields).enumerate() {
            match members.iter_mut().find(|(n, _)| *n == name) {
                Some((_, m)) => {
                    m.index = index;
                    m.form = form;
                }
                None => members.push((
                    name,
                    Member {
                        prefix: json::member_prefix(name),
                        index,
                        form,
                    },
                )),
            }
        }
        // Every member but the first follows a comma, written with its name.
        for (_, m) in members.iter_mut().skip(1) {
            m.prefix.insert(0, b',');
        }
        members.into_iter().map(|(_, m)| m).collect()
    }

    /// The (name, quoted name, form) of the columns a document holds, projected to `fields`.
    fn doc_columns<'a>(&'a self, fields: Option<&'a [String]>) -> impl Iterator<Item = (&'a str, &'a str, Form)> + 'a {
        let rowid = self.rowid.then_some(("rowid", "rowid", Form::Plain));
        rowid
            .into_iter()
            .chain(
                self.columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.quoted.as_str(), c.form)),
            )
            .filter(move |(name, _, _)| fields.is_none_or(|f| f.iter().any(|p| p == name)))
    }
}

/// Runs a page plan on one table or view of the file at `path`.
fn read_page(
    conn: &raw::Reader,
    c: &Collection,
    path: &Path,
    totals: &Totals,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    // A file has no history: every page reads its present.
    let state = |_: &Connection| {
        Ok(State {
            generation: generation(path),
            versions: None,
        })
    };
    let table = Table {
        sql_name: c.sql_name.clone(),
        layout: c,
        docs: c,
        state: &state,
        history: None,
    };
    page::run(conn, totals, &table, query, plan, count)
}

/// The file's size and modification times (with its WAL's): changes whenever its contents
/// do, so cached totals stay valid exactly as long as the file is unchanged.
fn generation(path: &Path) -> String {
    use std::fmt::Write;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut generation = String::with_capacity(64);
    for p in [path, Path::new(&wal)] {
        match std::fs::metadata(p) {
            Ok(m) => {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                // Writing into a String cannot fail.
                let _ = write!(generation, "{}:{modified}|", m.len());
            }
            Err(_) => generation.push_str("-|"),
        }
    }
    generation
}

#[async_trait::async_trait]
impl Store for SqliteFileStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        let mut served: Vec<(&String, &Arc<Collection>)> = self.collections.iter().collect();
        served.sort_by_key(|(name, _)| *name);
        let listed = served
            .into_iter()
            .map(|(_, c)| (Arc::clone(&c.schema), c.unindexed.clone()));
        catalog::with_counts(self, listed).await
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        Ok(Arc::clone(&self.collection(collection)?.schema))
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        let c = self.collection(&query.schema.name)?;
        let (query, plan, totals, path) = (query.clone(), plan.clone(), Arc::clone(&self.totals), self.path.clone());
        pool::read(&self.readers, move |conn| {
            read_page(conn, &c, &path, &totals, &query, &plan, count)
        })
        .await
    }

    /// Read on the calling thread, within a few milliseconds, as the embedded store does.
    async fn page_ahead(&self, query: &Query, plan: &Plan, count: Count) -> Result<Option<PageResult>, StoreError> {
        let c = self.collection(&query.schema.name)?;
        pool::speculate(&self.readers, |conn| {
            read_page(conn, &c, &self.path, &self.totals, query, plan, count)
        })
    }

    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        // Every collection of the file changes with the file: two `stat`s, no query.
        self.collection(collection)?;
        Ok(generation(&self.path))
    }

    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        let c = self.collection(&schema.name)?;
        let id = sql::bind(id);
        pool::read(&self.readers, move |conn| {
            let columns = c.select(None, &mut Vec::new()).join(", ");
            let get_sql = format!("SELECT {columns} FROM {} WHERE {} = ?1", c.sql_name, c.id_column);
            let mut doc: Option<Vec<u8>> = None;
            conn.each_row(&get_sql, &[id], |r| {
                if doc.is_none() {
                    let mut out = Vec::new();
                    c.write_doc(r, 0, &Held::none(), None, &mut out)?;
                    doc = Some(out);
                }
                Ok::<_, StoreError>(())
            })?;
            doc.map(|d| String::from_utf8(d).map_err(|e| StoreError::Internal(format!("a document is not UTF-8: {e}"))))
                .transpose()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use folio_engine::{Filter, Position, Sort};

    /// The tables of a file with one index each, in every shape that decides how ties break.
    fn file(dir: &Path) -> PathBuf {
        let path = dir.join("ties.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE desc_text (id TEXT PRIMARY KEY, c TEXT); CREATE INDEX dt ON desc_text (c DESC, id);
             CREATE TABLE id_desc (id TEXT PRIMARY KEY, c TEXT); CREATE INDEX idd ON id_desc (c, id DESC);
             CREATE TABLE same (id TEXT PRIMARY KEY, c TEXT); CREATE INDEX s ON same (c, id);
             CREATE TABLE both_ways (id TEXT PRIMARY KEY, c TEXT);
             CREATE INDEX b1 ON both_ways (c DESC, id); CREATE INDEX b2 ON both_ways (c, id);
             CREATE TABLE rowid_desc (id INTEGER PRIMARY KEY, c TEXT); CREATE INDEX rd ON rowid_desc (c DESC);
             CREATE TABLE rowid_asc (id INTEGER PRIMARY KEY, c TEXT); CREATE INDEX ra ON rowid_asc (c);
             CREATE TABLE other_key (id TEXT PRIMARY KEY, c TEXT); CREATE INDEX ok ON other_key (c DESC);
             INSERT INTO desc_text VALUES ('a', 'x'), ('b', 'x'), ('c', 'y');",
        )
        .unwrap();
        path
    }

    #[test]
    fn ties_break_on_the_id_as_the_files_index_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(file(dir.path())).unwrap();
        for (table, reversed) in [
            ("desc_text", true),
            ("id_desc", true),
            ("same", false),
            ("both_ways", false),
            ("rowid_desc", true),
            ("rowid_asc", false),
            // The index ends with the rowid, which is not the id: ties are sorted either way.
            ("other_key", false),
        ] {
            let c = describe(&conn, table, false).unwrap().unwrap();
            let path = &c.schema.indexed[0];
            assert_eq!((path.path.as_str(), path.ties_reversed), ("c", reversed), "{table}");
        }
    }

    #[test]
    fn boolean_columns_of_zeros_and_ones_are_booleans_and_others_take_their_values_type() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("b.sqlite")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN, level BOOL, word BOOLEAN, mixed BOOLEAN, n INTEGER);
             INSERT INTO t VALUES (1, 1, 0, 'yes', 1, 1), (2, 0, 2, 'no', 'x', 0), (3, NULL, 1, NULL, 0.5, 1);",
        )
        .unwrap();
        let c = describe(&conn, "t", false).unwrap().unwrap();
        let typed: Vec<(&str, FieldType)> = c.schema.indexed.iter().map(|p| (p.path.as_str(), p.ty)).collect();
        assert_eq!(
            typed,
            [
                ("flag", FieldType::Boolean),
                ("level", FieldType::Integer),
                ("word", FieldType::String),
                ("n", FieldType::Integer)
            ]
        );
        assert!(
            c.unindexed
                .iter()
                .any(|(column, why)| column == "mixed" && why.contains("BOOLEAN"))
        );
        let forms: Vec<(&str, Form)> = c.columns.iter().map(|c| (c.name.as_str(), c.form)).collect();
        assert_eq!(
            forms,
            [
                ("id", Form::Plain),
                ("flag", Form::Boolean),
                ("level", Form::Plain),
                ("word", Form::Plain),
                ("mixed", Form::Plain),
                ("n", Form::Plain)
            ]
        );
    }

    #[test]
    fn a_sort_the_index_keeps_reads_in_index_order_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(file(dir.path())).unwrap();
        let c = describe(&conn, "desc_text", false).unwrap().unwrap();
        let state = |_: &Connection| {
            Ok(State {
                generation: String::new(),
                versions: None,
            })
        };
        let table = Table {
            sql_name: c.sql_name.clone(),
            layout: &c,
            docs: &c,
            state: &state,
            history: None,
        };
        for spec in ["-c", "c"] {
            let sort = Sort::parse(spec, &c.schema, "sort").unwrap();
            let query = Query {
                schema: c.schema.clone(),
                filter: Filter::all(),
                sort: sort.clone(),
                fields: None,
                at: None,
            };
            let first = folio_engine::page::plan(&sort, Position::Start, 2);
            let after = folio_engine::page::plan(
                &sort,
                Position::After(vec![Value::Text("x".into()), Value::Text("a".into())]),
                2,
            );
            for plan in [first, after] {
                let (sql, params, _) = page::page_sql(&table, &query, &plan);
                let explained: Vec<String> = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap()
                    .query_map(rusqlite::params_from_iter(&params), |r| r.get::<_, String>(3))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let explained = explained.join("; ");
                assert!(explained.contains("INDEX dt"), "{spec}: {explained}");
                assert!(!explained.contains("TEMP B-TREE"), "{spec}: {explained}");
            }
        }
    }
}
