use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use crate::*;

fn invoke(module: Option<&str>, export: &str, args: Vec<Value>) -> Action {
    Action::Invoke {
        module: module.map(|m| m.to_string()),
        export: export.to_string(),
        args,
    }
}

/// A bundle that uses every command, value and pattern variant.
fn sample() -> Bundle {
    let get = Action::Get {
        module: Some("M".to_string()),
        export: "g".to_string(),
    };
    let commands = vec![
        CommandKind::Module {
            name: Some("M".to_string()),
            bytes: vec![0, b'a', b's', b'm', 1, 0, 0, 0],
        },
        CommandKind::Module {
            name: None,
            bytes: vec![],
        },
        CommandKind::ModuleDefinition {
            name: None,
            bytes: vec![1, 2, 3],
        },
        CommandKind::ModuleInstance {
            instance: Some("I".to_string()),
            module: None,
        },
        CommandKind::Register {
            as_name: "reg".to_string(),
            module: Some("M".to_string()),
        },
        CommandKind::Action(invoke(
            None,
            "f",
            vec![
                Value::I32(u32::MAX),
                Value::I64(1 << 63),
                Value::F32(0x7fc0_0001),
                Value::F64(0xfff8_0000_0000_0001),
                Value::V128(u128::MAX - 5),
                Value::RefNull(RefKind::Func),
                Value::RefNull(RefKind::Extern),
                Value::RefExtern(7),
            ],
        )),
        CommandKind::AssertReturn {
            action: get.clone(),
            expected: vec![
                Expected::I32(1),
                Expected::I64(2),
                Expected::F32(FloatPattern::Bits(3)),
                Expected::F32(FloatPattern::CanonicalNan),
                Expected::F64(FloatPattern::ArithmeticNan),
                Expected::F64(FloatPattern::Bits(4)),
                Expected::V128(V128Pattern::Bits(5)),
                Expected::V128(V128Pattern::F32x4([
                    FloatPattern::Bits(1),
                    FloatPattern::CanonicalNan,
                    FloatPattern::ArithmeticNan,
                    FloatPattern::Bits(0x8000_0000),
                ])),
                Expected::V128(V128Pattern::F64x2([
                    FloatPattern::ArithmeticNan,
                    FloatPattern::Bits(9),
                ])),
                Expected::RefNull(None),
                Expected::RefNull(Some(RefKind::Extern)),
                Expected::RefFunc,
                Expected::RefExtern(None),
                Expected::RefExtern(Some(3)),
                Expected::Either(vec![Expected::I32(1), Expected::Either(vec![])]),
            ],
        },
        CommandKind::AssertTrap {
            action: invoke(Some("M"), "trap", vec![]),
            message: "unreachable".to_string(),
        },
        CommandKind::AssertExhaustion {
            action: get,
            message: "call stack exhausted".to_string(),
        },
        CommandKind::AssertMalformed {
            bytes: vec![0],
            message: "magic".to_string(),
        },
        CommandKind::AssertInvalid {
            bytes: vec![1],
            message: "type mismatch".to_string(),
        },
        CommandKind::AssertUnlinkable {
            bytes: vec![2],
            message: "unknown import".to_string(),
        },
        CommandKind::AssertUninstantiable {
            bytes: vec![3],
            message: "out of bounds memory access".to_string(),
        },
        CommandKind::HostChecked {
            assertion: HostCheckedKind::Malformed,
            message: "unexpected token".to_string(),
            host_error: "expected `)` — ünïcode".to_string(),
        },
        CommandKind::HostChecked {
            assertion: HostCheckedKind::Invalid,
            message: "unknown label".to_string(),
            host_error: String::new(),
        },
    ];
    Bundle {
        files: vec![
            File {
                name: "a.wast".to_string(),
                commands: commands
                    .into_iter()
                    .enumerate()
                    .map(|(i, kind)| Command {
                        line: (i as u32) * 1000 + 1,
                        kind,
                    })
                    .collect(),
            },
            File {
                name: "empty.wast".to_string(),
                commands: vec![],
            },
        ],
    }
}

#[test]
fn round_trip() {
    let bundle = sample();
    let bytes = bundle.encode();
    assert_eq!(&bytes[..4], b"ATSB");
    assert_eq!(Bundle::decode(&bytes), Ok(bundle));
}

#[test]
fn empty_bundle_round_trips() {
    let bundle = Bundle::default();
    assert_eq!(Bundle::decode(&bundle.encode()), Ok(bundle));
}

#[test]
fn assertion_count_ignores_setup_commands() {
    // 15 commands, of which module x2, definition, instance, register, action are setup.
    assert_eq!(sample().files[0].assertion_count(), 9);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample().encode();
    for len in 0..bytes.len() {
        let err = Bundle::decode(&bytes[..len]).expect_err("truncated bundle decoded");
        assert!(
            err.offset <= len,
            "offset {} beyond input {len}",
            err.offset
        );
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let bytes = sample().encode();
    // Deterministic xorshift so failures reproduce.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut corrupted = bytes.clone();
        let index = (state as usize) % corrupted.len();
        corrupted[index] ^= (state >> 32) as u8 | 1;
        let _ = Bundle::decode(&corrupted);
    }
}

#[test]
fn header_errors() {
    let mut bytes = sample().encode();
    bytes[0] = b'X';
    assert_eq!(
        Bundle::decode(&bytes).unwrap_err().kind,
        DecodeErrorKind::BadMagic
    );

    let mut bytes = sample().encode();
    bytes[4] = 99;
    assert_eq!(
        Bundle::decode(&bytes).unwrap_err().kind,
        DecodeErrorKind::UnsupportedVersion(99)
    );

    let mut bytes = sample().encode();
    bytes.push(0);
    assert_eq!(
        Bundle::decode(&bytes).unwrap_err().kind,
        DecodeErrorKind::TrailingBytes
    );
}

#[test]
fn huge_counts_and_bad_leb_are_rejected() {
    let mut bytes = Vec::from(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    // A file count of 2^63: more than the input can hold.
    bytes.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert_eq!(
        Bundle::decode(&bytes).unwrap_err().kind,
        DecodeErrorKind::UnexpectedEnd
    );

    let mut bytes = Vec::from(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&[0xff; 11]);
    assert_eq!(
        Bundle::decode(&bytes).unwrap_err().kind,
        DecodeErrorKind::BadLeb
    );
}

#[test]
fn deep_either_is_rejected() {
    let mut e = Expected::I32(0);
    for _ in 0..10 {
        e = Expected::Either(vec![e]);
    }
    let bundle = Bundle {
        files: vec![File {
            name: "deep".to_string(),
            commands: vec![Command {
                line: 1,
                kind: CommandKind::AssertReturn {
                    action: invoke(None, "f", vec![]),
                    expected: vec![e],
                },
            }],
        }],
    };
    assert_eq!(
        Bundle::decode(&bundle.encode()).unwrap_err().kind,
        DecodeErrorKind::TooDeep
    );
}

#[test]
fn nan_patterns() {
    let canon = FloatPattern::<u32>::CanonicalNan;
    let arith = FloatPattern::<u32>::ArithmeticNan;
    assert!(canon.matches_f32(0x7fc0_0000));
    assert!(canon.matches_f32(0xffc0_0000));
    assert!(!canon.matches_f32(0x7fc0_0001));
    assert!(!canon.matches_f32(0x7f80_0000)); // infinity
    assert!(arith.matches_f32(0x7fc0_0001));
    assert!(arith.matches_f32(0xffff_ffff));
    assert!(!arith.matches_f32(0x7fa0_0000)); // signalling NaN
    assert!(FloatPattern::Bits(0x8000_0000u32).matches_f32(0x8000_0000));
    assert!(!FloatPattern::Bits(0u32).matches_f32(0x8000_0000));

    let canon = FloatPattern::<u64>::CanonicalNan;
    let arith = FloatPattern::<u64>::ArithmeticNan;
    assert!(canon.matches_f64(0xfff8_0000_0000_0000));
    assert!(!canon.matches_f64(0x7ff8_0000_0000_0001));
    assert!(arith.matches_f64(0x7ff8_0000_0000_0001));
    assert!(!arith.matches_f64(0x7ff4_0000_0000_0000));
}

#[test]
fn v128_lane_patterns() {
    let lanes = |l: [u32; 4]| {
        l.iter()
            .enumerate()
            .fold(0u128, |acc, (i, &v)| acc | (u128::from(v) << (32 * i)))
    };
    let p = V128Pattern::F32x4([
        FloatPattern::Bits(0x3f80_0000),
        FloatPattern::CanonicalNan,
        FloatPattern::ArithmeticNan,
        FloatPattern::Bits(0),
    ]);
    assert!(p.matches(lanes([0x3f80_0000, 0xffc0_0000, 0x7fc0_1234, 0])));
    assert!(!p.matches(lanes([0x3f80_0000, 0x7fc0_0001, 0x7fc0_1234, 0])));
    assert!(!p.matches(lanes([0x3f80_0000, 0x7fc0_0000, 0x7fc0_1234, 1])));

    let p = V128Pattern::F64x2([FloatPattern::CanonicalNan, FloatPattern::Bits(7)]);
    assert!(p.matches(0x7ff8_0000_0000_0000 | (7u128 << 64)));
    assert!(!p.matches(0x7ff8_0000_0000_0000 | (8u128 << 64)));
}
