//! `CursorCodec::decode`: opaque cursor tokens, as `page[cursor]`, `page[after]`,
//! `page[before]`, `after` and `before` carry them.
//!
//! Random text never carries a valid signature, so most of the decoder would stay out of
//! reach. The first byte therefore also chooses how the rest becomes a token:
//!
//! - bits 0-1: the sort the token is decoded for (by id, by one path, by two paths, by id
//!   descending), on the schema chosen by bit 4;
//! - bits 2-3: 0, the rest is the token text; 1, the rest is a token body, signed with the
//!   codec's secret; 2 and 3, the rest is a kind byte and a key, put behind the version and
//!   the right fingerprint and signed, which reaches the key decoder.
//!
//! Whatever decodes must encode back to a token that decodes to the same position (and the
//! same end, for a partition's cursor); a signed token built from a well-formed key must
//! encode back to exactly the same text.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use folio_engine::{Filter, Fingerprint, Position, Sort};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema = folio_fuzz::pick_schema(selector >> 4);
    let spec = ["", "-upload_create_time", "provider,-results.material.n_elements", "-"][usize::from(selector & 3)];
    let spec = if spec == "-" {
        format!("-{}", schema.id_path)
    } else {
        spec.to_owned()
    };
    let sort = Sort::parse(&spec, &schema, "sort").expect("a sort of the schema");
    let fp = Fingerprint::of(&schema, &Filter::all(), &sort);
    let codec = folio_fuzz::codec();
    let sign = |body: Vec<u8>| {
        let mut mac = Hmac::<Sha256>::new_from_slice(folio_fuzz::SECRET).expect("any key length");
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        let mut token = body;
        token.extend_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(token)
    };
    let mode = (selector >> 2) & 3;
    let token = match mode {
        0 => folio_fuzz::text(rest).into_owned(),
        1 => sign(rest.to_vec()),
        _ => {
            let Some((&kind, key)) = rest.split_first() else {
                return;
            };
            // The fingerprint bytes are those of any token issued for this query.
            let issued = URL_SAFE_NO_PAD
                .decode(codec.encode(fp, &Position::End))
                .expect("tokens are base64url");
            let mut body = vec![1, kind];
            body.extend_from_slice(&issued[2..10]);
            body.extend_from_slice(key);
            sign(body)
        }
    };
    match codec.decode(&token, fp, &sort) {
        Ok(cursor) => {
            let again = codec.encode_until(fp, &cursor.position, cursor.until.as_deref());
            assert_eq!(codec.decode(&again, fp, &sort), Ok(cursor));
            if mode >= 2 {
                assert_eq!(again, token, "the encoding is canonical");
            }
        }
        Err(e) => folio_fuzz::render(&folio_engine::EngineError::cursor("page[cursor]", e).into()),
    }
});
