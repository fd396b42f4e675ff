use proptest::prelude::*;

use super::*;
use crate::schema::Column;
use crate::sort::{Direction, SortField};

/// Values drawn from a tiny domain so that ties and NULLs are common.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (0i64..3).prop_map(Value::Int),
        (0i64..3).prop_map(|i| Value::Float(i as f64 + 0.5))
    ]
}

fn sort_of(dirs: &[(usize, bool)]) -> Sort {
    Sort::new(dirs.iter().map(|&(n, desc)| SortField {
        column: Column::Indexed(n),
        direction: if desc { Direction::Desc } else { Direction::Asc },
    }))
}

fn key_of(sort: &Sort, row: &[Value], id: i64) -> Vec<Value> {
    sort.fields()
        .iter()
        .map(|f| match f.column {
            Column::Id => Value::Int(id),
            Column::Indexed(n) => row[n].clone(),
        })
        .collect()
}

proptest! {
    /// The predicate selects exactly the rows the reference order puts after (before) the key.
    #[test]
    fn predicate_agrees_with_reference_order(
        rows in proptest::collection::vec(proptest::collection::vec(value(), 3), 1..20),
        dirs in proptest::collection::vec((0usize..3, any::<bool>()), 0..4),
        pick in any::<proptest::sample::Index>(),
    ) {
        let sort = sort_of(&dirs);
        let keys: Vec<_> = rows.iter().enumerate().map(|(i, r)| key_of(&sort, r, i as i64)).collect();
        let key = pick.get(&keys).clone();
        for side in [Side::After, Side::Before, Side::Through, Side::From] {
            let p = predicate(&sort, &key, side);
            for (i, row) in rows.iter().enumerate() {
                let value_of = |c: Column| match c {
                    Column::Id => Value::Int(i as i64),
                    Column::Indexed(n) => row[n].clone(),
                };
                let ord = compare_keys(&sort, &keys[i], &key);
                let expected = match side {
                    Side::After => ord == Ordering::Greater,
                    Side::Before => ord == Ordering::Less,
                    Side::Through => ord != Ordering::Greater,
                    Side::From => ord != Ordering::Less,
                };
                prop_assert_eq!(p.matches(&value_of), expected, "{:?} row {:?} side {:?}", p, row, side);
            }
        }
    }
}

#[test]
fn nulls_sort_last_ascending_and_first_descending() {
    let asc = Sort::new([SortField {
        column: Column::Indexed(0),
        direction: Direction::Asc,
    }]);
    let desc = Sort::new([SortField {
        column: Column::Indexed(0),
        direction: Direction::Desc,
    }]);
    let null = [Value::Null, Value::Int(1)];
    let one = [Value::Int(1), Value::Int(2)];
    assert_eq!(compare_keys(&asc, &null, &one), Ordering::Greater);
    assert_eq!(compare_keys(&desc, &null, &one), Ordering::Less);
}

#[test]
fn same_directions_make_one_row_value() {
    let sort = Sort::new([SortField {
        column: Column::Indexed(0),
        direction: Direction::Desc,
    }]);
    let p = predicate(&sort, &[Value::Int(5), Value::Text("x".into())], Side::After);
    assert_eq!(
        p,
        Predicate::Row {
            columns: vec![Column::Indexed(0), Column::Id],
            op: CmpOp::Lt,
            values: vec![Value::Int(5), Value::Text("x".into())],
        }
    );
}

#[test]
fn mixed_directions_lead_with_a_range() {
    let sort = Sort::new([
        SortField {
            column: Column::Indexed(0),
            direction: Direction::Asc,
        },
        SortField {
            column: Column::Indexed(1),
            direction: Direction::Desc,
        },
    ]);
    let p = predicate(&sort, &[Value::Int(1), Value::Int(2), Value::Int(3)], Side::After);
    let Predicate::And(parts) = p else {
        panic!("expected a conjunction, got {p:?}")
    };
    assert_eq!(
        parts[0],
        Predicate::Row {
            columns: vec![Column::Indexed(0)],
            op: CmpOp::Ge,
            values: vec![Value::Int(1)]
        }
    );
}
