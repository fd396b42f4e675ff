use folio_engine::Filter;

use super::{Counting, ident, table};
use crate::totals::Totals;
use crate::{Count, Total};

#[test]
fn identifiers_are_quoted_with_their_quotes_doubled() {
    assert_eq!(ident(r#"a"b"#), r#""a""b""#);
    assert_eq!(table("things"), r#""folio_c_things""#);
}

#[test]
fn no_count_asked_for_is_no_counting() {
    assert!(Counting::new(Count::Skip, &Filter::all()).is_none());
}

#[test]
fn exact_counts_count_everything_and_are_cached_per_generation() {
    let totals = Totals::default();
    let counting = Counting::new(Count::Exact, &Filter::all()).unwrap();
    assert_eq!(counting.sql("t", " WHERE x"), "SELECT count(*) FROM t WHERE x");
    assert_eq!(counting.cached(&totals, "c", "1"), None);
    let total = counting.counted(&totals, "c", "1", 7);
    assert_eq!(total, Total { count: 7, exact: true });
    assert_eq!(counting.cached(&totals, "c", "1"), Some(total));
    assert_eq!(counting.cached(&totals, "c", "2"), None);
}

#[test]
fn capped_counts_stop_one_past_the_cap_and_say_so() {
    let totals = Totals::default();
    let counting = Counting::new(Count::AtMost(10), &Filter::all()).unwrap();
    assert_eq!(
        counting.sql("t", ""),
        "SELECT count(*) FROM (SELECT 1 FROM t LIMIT 11) AS capped"
    );
    assert_eq!(
        counting.counted(&totals, "c", "1", 11),
        Total {
            count: 10,
            exact: false
        }
    );
    assert_eq!(
        counting.counted(&totals, "c", "2", 10),
        Total { count: 10, exact: true }
    );
    // The cap is part of the key: an exact count is not taken for a capped one.
    let exact = Counting::new(Count::Exact, &Filter::all()).unwrap();
    assert_eq!(exact.cached(&totals, "c", "2"), None);
}
