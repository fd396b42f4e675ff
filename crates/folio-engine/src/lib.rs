//! The keyset pagination core of folio, shared by every HTTP style and every store.
//!
//! # Brief overview
//! - [`CollectionSchema`] names a collection's id path and its indexed paths ([`FieldType`]).
//! - [`Sort`] is a total order: the requested paths, then the id as tiebreaker.
//! - [`Filter`] selects records by conditions on indexed paths.
//! - [`page::plan`] turns a [`Position`] and a size into a [`Plan`] with a keyset
//!   [`Predicate`]; a store runs it and [`Plan::assemble`] builds the [`Page`].
//! - [`CursorCodec`] turns positions into signed, query-bound tokens and back.
//! - [`Limits`] checks page sizes and offset depth before anything runs.
//!
//! The engine does no I/O and is not async: every function here is pure.
//!
//! # Example
//! ```
//! use folio_engine::{CollectionSchema, FieldType, IdType, IndexedPath, Position, Sort, Value};
//! use folio_engine::page::plan;
//!
//! let schema = CollectionSchema {
//!     name: "entries".into(),
//!     id_path: "entry_id".into(),
//!     id_type: IdType::String,
//!     indexed: vec![IndexedPath::new("upload_create_time", FieldType::Timestamp)],
//! };
//! let sort = Sort::parse("-upload_create_time", &schema, "sort").unwrap();
//! let key = vec![Value::Int(1_614_859_200_000_000), Value::Text("abc".into())];
//! let plan = plan(&sort, Position::After(key), 25);
//! assert_eq!(plan.limit, 26); // one more than the page size, to see whether more follow
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod cursor;
pub mod error;
pub mod filter;
pub mod keyset;
pub mod limits;
pub mod page;
pub mod pagemap;
pub mod projection;
pub mod schema;
pub mod sort;
pub mod transparent;
pub mod value;

pub use cursor::{Cursor, CursorCodec, CursorError, Fingerprint, Snapshot};
pub use error::EngineError;
pub use filter::{Clause, Condition, Filter};
pub use keyset::{CmpOp, Predicate, Side};
pub use limits::Limits;
pub use page::{Key, Page, Plan, Position, Scan};
pub use pagemap::{PageMap, Partition};
pub use schema::{CollectionSchema, Column, FieldType, IdType, IndexedPath};
pub use sort::{Direction, Sort, SortField};
pub use value::{Value, ValueRef};
