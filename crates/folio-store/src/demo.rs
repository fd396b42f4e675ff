//! The demo dataset: `entries`, shaped like a materials database, deterministic by size.
//!
//! The same size always gives the same records, on every machine and in every version that
//! keeps [`ORIGIN_VERSION`]: the generator is a fixed SplitMix64 stream, not a library RNG
//! whose output could change with an upgrade.

use folio_engine::{CollectionSchema, FieldType, IdType, IndexedPath};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::StoreError;
use crate::write::{ImportMode, OnDuplicate, Progress, Writer};

/// The demo collection's name.
pub const COLLECTION: &str = "entries";

/// Bumped whenever the generator's output changes, so stored demos are rebuilt.
pub const ORIGIN_VERSION: u32 = 1;

/// The schema of the demo collection (cli.md).
pub fn schema() -> CollectionSchema {
    let p = |path: &str, ty| IndexedPath::new(path.to_owned(), ty);
    CollectionSchema {
        name: COLLECTION.to_owned(),
        id_path: "entry_id".to_owned(),
        id_type: IdType::String,
        indexed: vec![
            p("upload_id", FieldType::String),
            p("upload_create_time", FieldType::Timestamp),
            p("provider", FieldType::String),
            p("results.material.elements", FieldType::StringArray),
            p("results.material.chemical_formula_reduced", FieldType::String),
            p("results.material.n_elements", FieldType::Integer),
            p("results.properties.electronic.band_gap", FieldType::Float),
        ],
    }
}

/// Makes sure the store holds the demo of exactly `size` entries, building it if it is
/// missing or of another size. Returns whether it was built.
pub async fn ensure(store: &dyn Writer, size: u64, progress: Progress<'_>) -> Result<bool, StoreError> {
    let origin = origin(size);
    if store.origin(COLLECTION).await?.flatten().as_deref() == Some(origin.as_str()) {
        return Ok(false);
    }
    store.drop_collection(COLLECTION).await?;
    create(store, size, progress).await?;
    Ok(true)
}

/// Creates the demo collection with `size` entries (it must not exist yet), from synchronous
/// code such as tests: runs the import to completion on a runtime of its own, on a thread of
/// its own, so that it may be called from inside an async context too.
pub fn build(store: &dyn Writer, size: u64, progress: Progress<'_>) -> Result<(), StoreError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| StoreError::Internal(format!("cannot start a runtime for the demo: {e}")))?;
                runtime.block_on(create(store, size, progress))
            })
            .join()
            .map_err(|_| StoreError::Internal("building the demo panicked".to_owned()))?
    })
}

/// Creates the demo collection through the import path: the collection is created in the
/// same transaction, with its indexes built after the load.
async fn create(store: &dyn Writer, size: u64, progress: Progress<'_>) -> Result<(), StoreError> {
    let numbered = Entries::new(size).zip(1..).map(|(doc, n)| Ok((n, doc)));
    store
        .import(
            &schema(),
            ImportMode::Create,
            Box::new(numbered),
            OnDuplicate::Error,
            progress,
        )
        .await?;
    store.set_origin(COLLECTION, &origin(size)).await
}

/// The demo entries, in generation order.
pub fn entries(size: u64) -> impl Iterator<Item = serde_json::Value> {
    Entries::new(size)
}

fn origin(size: u64) -> String {
    format!("demo v{ORIGIN_VERSION} size {size}")
}

struct Entries {
    rng: SplitMix64,
    next: u64,
    size: u64,
    upload: Upload,
}

struct Upload {
    id: String,
    created: String,
    provider: &'static str,
    left: u64,
}

impl Entries {
    fn new(size: u64) -> Entries {
        Entries {
            rng: SplitMix64(0x5eed_f011_0000_0001),
            next: 0,
            size,
            upload: Upload {
                id: String::new(),
                created: String::new(),
                provider: "",
                left: 0,
            },
        }
    }
}

impl Iterator for Entries {
    type Item = serde_json::Value;

    fn next(&mut self) -> Option<serde_json::Value> {
        if self.next == self.size {
            return None;
        }
        let rng = &mut self.rng;
        if self.upload.left == 0 {
            // Uploads of 1 to 100 entries share an id, a creation time and a provider.
            let seconds = START + (rng.next() % SPAN) as i64;
            self.upload = Upload {
                id: url_safe(&rng.bytes::<16>(), 22),
                created: OffsetDateTime::from_unix_timestamp(seconds)
                    .expect("within the years 2014 to 2024")
                    .format(format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
                    ))
                    .expect("formatting a valid date cannot fail"),
                provider: PROVIDERS[rng.below(PROVIDERS.len())],
                left: 1 + rng.next() % 100,
            };
        }
        self.upload.left -= 1;

        // Unique by construction: the first 8 bytes are a bijection of the entry's number.
        let mut id_bytes = [0u8; 21];
        id_bytes[..8].copy_from_slice(&mix(self.next).to_be_bytes());
        id_bytes[8..].copy_from_slice(&rng.bytes::<13>());
        self.next += 1;

        let elements = elements(rng);
        let formula = formula(rng, &elements);
        let band_gap = if rng.below(10) == 0 {
            None
        } else {
            Some(rng.below(8001) as f64 / 1000.0)
        };
        Some(json!({
            "entry_id": url_safe(&id_bytes, 28),
            "upload_id": self.upload.id,
            "upload_create_time": self.upload.created,
            "provider": self.upload.provider,
            "results": {
                "material": {
                    "elements": elements,
                    "chemical_formula_reduced": formula,
                    "n_elements": elements.len(),
                },
                "properties": {"electronic": {"band_gap": band_gap}},
            },
        }))
    }
}

/// 2014-01-01T00:00:00Z and ten years of seconds after it.
const START: i64 = 1_388_534_400;
const SPAN: u64 = 10 * 365 * 86_400;

fn elements(rng: &mut SplitMix64) -> Vec<&'static str> {
    let n = match rng.below(100) {
        0..10 => 1,
        10..40 => 2,
        40..75 => 3,
        75..93 => 4,
        _ => 5,
    };
    let mut picked: Vec<&'static str> = Vec::with_capacity(n);
    // About 5% of entries hold titanium and oxygen together; the rest never do.
    let ti_o = n >= 2 && rng.below(100) < 6;
    if ti_o {
        picked.extend(["O", "Ti"]);
    }
    while picked.len() < n {
        let e = ELEMENTS[rng.below(ELEMENTS.len())];
        let forbidden = !ti_o && ((e == "Ti" && picked.contains(&"O")) || (e == "O" && picked.contains(&"Ti")));
        if !picked.contains(&e) && !forbidden {
            picked.push(e);
        }
    }
    picked.sort_unstable();
    picked
}

fn formula(rng: &mut SplitMix64, elements: &[&str]) -> String {
    let counts: Vec<u64> = elements.iter().map(|_| 1 + rng.below(6) as u64).collect();
    let g = counts.iter().copied().fold(0, gcd);
    elements
        .iter()
        .zip(&counts)
        .map(|(e, c)| {
            if c / g == 1 {
                (*e).to_owned()
            } else {
                format!("{e}{}", c / g)
            }
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The SplitMix64 finalizer: a bijection on `u64`.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

/// `len` characters of base64url text for `bytes`.
fn url_safe(bytes: &[u8], len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(len);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 && out.len() < len {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 && out.len() < len {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

const PROVIDERS: [&str; 50] = [
    "aflow",
    "alexandria",
    "aims-lab",
    "ames-lab",
    "argonne-cms",
    "berkeley-mp",
    "cambridge-tcm",
    "carnegie-gl",
    "cea-saclay",
    "cnr-iom",
    "csiro",
    "delft-mse",
    "dtu-camd",
    "eth-theos",
    "fhi-theory",
    "fzj-pgi",
    "harvard-cep",
    "hzb",
    "icams",
    "imperial-tsm",
    "jarvis-nist",
    "kaist-mse",
    "kit-int",
    "kyoto-cms",
    "lanl-t1",
    "llnl-mat",
    "mit-dmse",
    "mpie",
    "mpi-halle",
    "nanyang-mse",
    "nims",
    "nomad-lab",
    "northwestern-oqmd",
    "ornl-cnms",
    "oxford-materials",
    "psi-lms",
    "rice-msne",
    "riken-ccs",
    "sandia-cmse",
    "seoul-mse",
    "sissa",
    "slac-suncat",
    "stanford-mse",
    "tokyo-issp",
    "tu-wien",
    "uc-davis",
    "ucl-thomas-young",
    "uppsala-mt",
    "warwick-physics",
    "yale-ees",
];

const ELEMENTS: [&str; 83] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
    "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce",
    "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir",
    "Pt", "Au", "Hg", "Tl", "Pb", "Bi",
];

#[cfg(test)]
mod tests;
