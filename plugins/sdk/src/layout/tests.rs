//! The packed layouts read back as they were written, byte for byte.

use super::*;

#[test]
fn fields_and_events_round_trip() {
    let span = Span { start: 7, len: 3 };
    let values = [
        Value::Null,
        Value::Bool(false),
        Value::Bool(true),
        Value::Int(-42),
        Value::Float(19.99),
        Value::Text(span),
        Value::Json(span),
    ];
    let mut packed = Vec::new();
    for (name, value) in values.iter().enumerate() {
        push_field(
            &mut packed,
            Field {
                name: name as u32,
                value: *value,
            },
        );
    }
    assert_eq!(packed.len(), values.len() * FIELD_BYTES);
    for (index, value) in values.iter().enumerate() {
        let field = read_field(&packed, index).unwrap();
        assert_eq!((field.name, field.value), (index as u32, *value));
    }
    assert_eq!(read_field(&packed, values.len()), None);
    let header = EventHeader {
        first_field: 3,
        field_count: 9,
        position: span,
        arrival_micros: -5,
    };
    let mut events = Vec::new();
    push_event(&mut events, header);
    assert_eq!(read_event(&events, 0), Some(header));
    assert_eq!(read_event(&events, 1), None);
}

#[test]
fn changes_and_outcomes_round_trip() {
    let span = Span { start: 2, len: 5 };
    let changes = [
        PackedChange::Set(Field {
            name: 3,
            value: Value::Float(-0.5),
        }),
        PackedChange::Set(Field {
            name: 4,
            value: Value::Text(span),
        }),
        PackedChange::Remove(9),
        PackedChange::Partition {
            key: 1,
            value: span,
        },
        PackedChange::Replace(span),
    ];
    let mut packed = Vec::new();
    for change in changes {
        push_change(&mut packed, change);
    }
    for (index, change) in changes.iter().enumerate() {
        assert_eq!(read_change(&packed, index), Some(*change));
    }
    let outcomes = [
        PackedOutcome::Keep { first: 4, count: 2 },
        PackedOutcome::Drop,
        PackedOutcome::Reject {
            code: span,
            reason: Span { start: 7, len: 30 },
        },
    ];
    let mut packed = Vec::new();
    for outcome in outcomes {
        push_outcome(&mut packed, outcome);
    }
    assert_eq!(packed.len(), 3 * OUTCOME_BYTES);
    for (index, outcome) in outcomes.iter().enumerate() {
        assert_eq!(read_outcome(&packed, index), Some(*outcome));
    }
    packed[2 * OUTCOME_BYTES] = 9;
    assert_eq!(read_outcome(&packed, 2), None);
}

#[test]
fn set_replaces_or_appends_and_remove_removes() {
    let mut fields = PackedFields::default();
    fields.push(Field {
        name: 1,
        value: Value::Int(1),
    });
    fields.push(Field {
        name: 65,
        value: Value::Int(65),
    });
    // 129 shares bit 1 with name 1 and name 65: absent all the same.
    fields.set(Field {
        name: 129,
        value: Value::Null,
    });
    fields.set(Field {
        name: 65,
        value: Value::Bool(true),
    });
    fields.remove(1);
    fields.remove(7);
    let names: Vec<(u32, Value)> = fields.iter().map(|f| (f.name, f.value)).collect();
    assert_eq!(names, [(65, Value::Bool(true)), (129, Value::Null)]);
}
