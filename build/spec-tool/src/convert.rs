//! `.wast` text to spec-bundle commands, using the `wast` crate.

use spec_bundle::{
    Action, Command, CommandKind, Expected, File, FloatPattern, HostCheckedKind, RefKind,
    V128Pattern, Value,
};
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastRet, Wat};

/// A directive that could not be converted. It counts as a failed assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    pub line: u32,
    pub directive: &'static str,
    pub reason: String,
}

/// The result of converting one script.
#[derive(Clone, Debug)]
pub struct Converted {
    pub file: File,
    pub errors: Vec<ConvertError>,
}

/// Converts the `.wast` script `text` named `name`.
///
/// Returns `Err` only if the script as a whole does not parse; directives that
/// cannot be converted are listed in [`Converted::errors`].
pub fn convert_wast(name: &str, text: &str) -> Result<Converted, String> {
    let mut lexer = Lexer::new(text);
    // The official suite deliberately contains confusing Unicode in strings.
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| render(e, text))?;
    let wast = parser::parse::<Wast>(&buf).map_err(|e| render(e, text))?;
    let lines = LineIndex::new(text);
    let mut file = File {
        name: name.to_string(),
        commands: Vec::new(),
    };
    let mut errors = Vec::new();
    for directive in wast.directives {
        let line = lines.line(directive.span());
        let directive_name = directive_name(&directive);
        match convert_directive(directive) {
            Ok(kind) => file.commands.push(Command { line, kind }),
            Err(reason) => errors.push(ConvertError {
                line,
                directive: directive_name,
                reason,
            }),
        }
    }
    Ok(Converted { file, errors })
}

fn render(mut e: wast::Error, text: &str) -> String {
    e.set_text(text);
    e.to_string()
}

/// Byte offset to 1-based line, in O(log n).
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex(starts)
    }

    fn line(&self, span: Span) -> u32 {
        let line = self.0.partition_point(|&start| start <= span.offset());
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

fn directive_name(d: &WastDirective) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// Whether a directive that failed to convert was an assertion (and so is
/// counted as a failed assertion) rather than a setup command.
pub fn is_assertion_directive(name: &str) -> bool {
    name.starts_with("assert_")
}

fn id_name(id: Option<Id>) -> Option<String> {
    id.map(|id| id.name().to_string())
}

fn convert_directive(d: WastDirective) -> Result<CommandKind, String> {
    Ok(match d {
        WastDirective::Module(mut module) => {
            reject_component(&module)?;
            CommandKind::Module {
                name: id_name(module.name()),
                bytes: encode(&mut module)?,
            }
        }
        WastDirective::ModuleDefinition(mut module) => {
            reject_component(&module)?;
            CommandKind::ModuleDefinition {
                name: id_name(module.name()),
                bytes: encode(&mut module)?,
            }
        }
        WastDirective::ModuleInstance {
            instance, module, ..
        } => CommandKind::ModuleInstance {
            instance: id_name(instance),
            module: id_name(module),
        },
        WastDirective::AssertMalformed {
            module, message, ..
        } => must_fail(module, message, HostCheckedKind::Malformed)?,
        WastDirective::AssertInvalid {
            module, message, ..
        } => must_fail(module, message, HostCheckedKind::Invalid)?,
        WastDirective::Register { name, module, .. } => CommandKind::Register {
            as_name: name.to_string(),
            module: id_name(module),
        },
        WastDirective::Invoke(invoke) => {
            CommandKind::Action(convert_execute(WastExecute::Invoke(invoke))?)
        }
        WastDirective::AssertTrap { exec, message, .. } => match exec {
            WastExecute::Wat(mut wat) => CommandKind::AssertUninstantiable {
                bytes: encode_wat(&mut wat)?,
                message: message.to_string(),
            },
            exec => CommandKind::AssertTrap {
                action: convert_execute(exec)?,
                message: message.to_string(),
            },
        },
        WastDirective::AssertReturn { exec, results, .. } => CommandKind::AssertReturn {
            action: convert_execute(exec)?,
            expected: results
                .into_iter()
                .map(convert_ret)
                .collect::<Result<_, _>>()?,
        },
        WastDirective::AssertExhaustion { call, message, .. } => CommandKind::AssertExhaustion {
            action: convert_execute(WastExecute::Invoke(call))?,
            message: message.to_string(),
        },
        WastDirective::AssertException { exec, .. } => CommandKind::AssertException {
            action: convert_execute(exec)?,
        },
        WastDirective::AssertUnlinkable {
            mut module,
            message,
            ..
        } => CommandKind::AssertUnlinkable {
            bytes: encode_wat(&mut module)?,
            message: message.to_string(),
        },
        other => {
            return Err(format!(
                "`{}` is not part of Wasm 3.0 and is not supported",
                directive_name(&other)
            ));
        }
    })
}

fn reject_component(module: &QuoteWat) -> Result<(), String> {
    match module {
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) => {
            Err("components are not supported".to_string())
        }
        _ => Ok(()),
    }
}

fn encode(module: &mut QuoteWat) -> Result<Vec<u8>, String> {
    module
        .encode()
        .map_err(|e| format!("cannot encode module: {}", e.message()))
}

fn encode_wat(wat: &mut Wat) -> Result<Vec<u8>, String> {
    if matches!(wat, Wat::Component(_)) {
        return Err("components are not supported".to_string());
    }
    wat.encode()
        .map_err(|e| format!("cannot encode module: {}", e.message()))
}

/// `assert_malformed` / `assert_invalid`. Binary modules and text the `wast`
/// crate can encode go to the engine, which must reject them. Text the `wast`
/// crate already rejects never reaches the engine: that rejection is the
/// check, recorded as [`CommandKind::HostChecked`].
fn must_fail(
    mut module: QuoteWat,
    message: &str,
    kind: HostCheckedKind,
) -> Result<CommandKind, String> {
    reject_component(&module)?;
    let message = message.to_string();
    let encoded = match module.to_test() {
        Ok(QuoteWatTest::Binary(bytes)) => Ok(bytes),
        Ok(QuoteWatTest::Text(text)) => encode_text(&text),
        Err(e) => Err(e.message()),
    };
    Ok(match (encoded, kind) {
        (Ok(bytes), HostCheckedKind::Malformed) => CommandKind::AssertMalformed { bytes, message },
        (Ok(bytes), HostCheckedKind::Invalid) => CommandKind::AssertInvalid { bytes, message },
        (Err(host_error), assertion) => CommandKind::HostChecked {
            assertion,
            message,
            host_error,
        },
    })
}

fn encode_text(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "malformed UTF-8 encoding".to_string())?;
    let buf = ParseBuffer::new(text).map_err(|e| e.message())?;
    let mut wat = parser::parse::<Wat>(&buf).map_err(|e| e.message())?;
    if matches!(wat, Wat::Component(_)) {
        return Err("components are not supported".to_string());
    }
    wat.encode().map_err(|e| e.message())
}

fn convert_execute(exec: WastExecute) -> Result<Action, String> {
    match exec {
        WastExecute::Invoke(invoke) => Ok(Action::Invoke {
            module: id_name(invoke.module),
            export: invoke.name.to_string(),
            args: invoke
                .args
                .into_iter()
                .map(convert_arg)
                .collect::<Result<_, _>>()?,
        }),
        WastExecute::Get { module, global, .. } => Ok(Action::Get {
            module: id_name(module),
            export: global.to_string(),
        }),
        WastExecute::Wat(_) => Err("a module is not an action here".to_string()),
    }
}

fn ref_kind(heap: &HeapType) -> Result<RefKind, String> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Ok(RefKind::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Ok(RefKind::Extern),
        other => Err(format!("reference type {other:?} is not part of Wasm 2.0")),
    }
}

fn convert_arg(arg: WastArg) -> Result<Value, String> {
    let WastArg::Core(arg) = arg else {
        return Err("component-model values are not supported".to_string());
    };
    Ok(match arg {
        WastArgCore::I32(v) => Value::I32(v as u32),
        WastArgCore::I64(v) => Value::I64(v as u64),
        WastArgCore::F32(v) => Value::F32(v.bits),
        WastArgCore::F64(v) => Value::F64(v.bits),
        WastArgCore::V128(v) => Value::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => Value::RefNull(ref_kind(&heap)?),
        WastArgCore::RefExtern(v) => Value::RefExtern(v),
        WastArgCore::RefHost(_) => return Err("`ref.host` is not part of Wasm 2.0".to_string()),
    })
}

fn f32_pattern(p: &NanPattern<wast::token::F32>) -> FloatPattern<u32> {
    match p {
        NanPattern::CanonicalNan => FloatPattern::CanonicalNan,
        NanPattern::ArithmeticNan => FloatPattern::ArithmeticNan,
        NanPattern::Value(v) => FloatPattern::Bits(v.bits),
    }
}

fn f64_pattern(p: &NanPattern<wast::token::F64>) -> FloatPattern<u64> {
    match p {
        NanPattern::CanonicalNan => FloatPattern::CanonicalNan,
        NanPattern::ArithmeticNan => FloatPattern::ArithmeticNan,
        NanPattern::Value(v) => FloatPattern::Bits(v.bits),
    }
}

/// Packs integer lanes little-endian into a `u128`.
fn pack<const N: usize>(lanes: [u64; N]) -> u128 {
    let width = 128 / N;
    let mask = if width == 64 {
        u128::from(u64::MAX)
    } else {
        (1u128 << width) - 1
    };
    lanes.iter().enumerate().fold(0, |acc, (i, &v)| {
        acc | ((u128::from(v) & mask) << (width * i))
    })
}

fn convert_ret(ret: WastRet) -> Result<Expected, String> {
    let WastRet::Core(ret) = ret else {
        return Err("component-model results are not supported".to_string());
    };
    convert_ret_core(ret)
}

fn convert_ret_core(ret: WastRetCore) -> Result<Expected, String> {
    use wast::core::V128Pattern as P;
    Ok(match ret {
        WastRetCore::I32(v) => Expected::I32(v as u32),
        WastRetCore::I64(v) => Expected::I64(v as u64),
        WastRetCore::F32(p) => Expected::F32(f32_pattern(&p)),
        WastRetCore::F64(p) => Expected::F64(f64_pattern(&p)),
        WastRetCore::V128(p) => Expected::V128(match p {
            P::I8x16(l) => V128Pattern::Bits(pack(l.map(|v| v as u8 as u64))),
            P::I16x8(l) => V128Pattern::Bits(pack(l.map(|v| v as u16 as u64))),
            P::I32x4(l) => V128Pattern::Bits(pack(l.map(|v| v as u32 as u64))),
            P::I64x2(l) => V128Pattern::Bits(pack(l.map(|v| v as u64))),
            P::F32x4(l) => V128Pattern::F32x4([
                f32_pattern(&l[0]),
                f32_pattern(&l[1]),
                f32_pattern(&l[2]),
                f32_pattern(&l[3]),
            ]),
            P::F64x2(l) => V128Pattern::F64x2([f64_pattern(&l[0]), f64_pattern(&l[1])]),
        }),
        WastRetCore::RefNull(None) => Expected::RefNull(None),
        WastRetCore::RefNull(Some(heap)) => Expected::RefNull(Some(ref_kind(&heap)?)),
        WastRetCore::RefExtern(v) => Expected::RefExtern(v),
        WastRetCore::RefFunc(_) => Expected::RefFunc,
        WastRetCore::Either(alternatives) => Expected::Either(
            alternatives
                .into_iter()
                .map(convert_ret_core)
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("result pattern {other:?} is not part of Wasm 2.0")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_common_directives() {
        let text = r#"
(module $M
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (global (export "g") i32 (i32.const 7)))
(register "m" $M)
(invoke "add" (i32.const 1) (i32.const 2))
(assert_return (invoke $M "add" (i32.const -1) (i32.const 0)) (i32.const -1))
(assert_return (get "g") (i32.const 7))
(assert_return (invoke "x") (f32.const nan:canonical) (f64.const nan:arithmetic)
  (v128.const i16x8 -1 0 0 0 0 0 0 1) (v128.const f32x4 nan:canonical 1 2 -0)
  (ref.null extern) (ref.extern 5) (ref.func) (ref.null))
(assert_trap (invoke "div" (v128.const i32x4 1 2 3 4) (ref.null func) (ref.extern 3)) "integer divide by zero")
(assert_trap (module (func unreachable) (start 0)) "unreachable")
(assert_exhaustion (invoke "loop") "call stack exhausted")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module quote "(func (result i32) (i32.const 0x))") "unknown operator")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
(module definition $D (func))
(module instance $I $D)
"#;
        let converted = convert_wast("t.wast", text).unwrap();
        assert_eq!(converted.errors, vec![]);
        let kinds: Vec<&str> = converted
            .file
            .commands
            .iter()
            .map(|c| c.kind.name())
            .collect();
        assert_eq!(
            kinds,
            [
                "module",
                "register",
                "action",
                "assert_return",
                "assert_return",
                "assert_return",
                "assert_trap",
                "assert_uninstantiable",
                "assert_exhaustion",
                "assert_malformed",
                "assert_malformed (host-checked)",
                "assert_invalid",
                "assert_unlinkable",
                "module definition",
                "module instance",
            ]
        );
        let c = &converted.file.commands;
        assert_eq!(c[0].line, 2);
        assert_eq!(c[3].line, 7);
        assert!(
            matches!(&c[0].kind, CommandKind::Module { name: Some(n), bytes } if n == "M" && bytes.starts_with(b"\0asm"))
        );
        assert_eq!(
            c[3].kind,
            CommandKind::AssertReturn {
                action: Action::Invoke {
                    module: Some("M".into()),
                    export: "add".into(),
                    args: vec![Value::I32(u32::MAX), Value::I32(0)],
                },
                expected: vec![Expected::I32(u32::MAX)],
            }
        );
        let CommandKind::AssertReturn { expected, .. } = &c[5].kind else {
            panic!("not an assert_return")
        };
        assert_eq!(
            expected,
            &vec![
                Expected::F32(FloatPattern::CanonicalNan),
                Expected::F64(FloatPattern::ArithmeticNan),
                Expected::V128(V128Pattern::Bits(0xffff | (1u128 << 112))),
                Expected::V128(V128Pattern::F32x4([
                    FloatPattern::CanonicalNan,
                    FloatPattern::Bits(1f32.to_bits()),
                    FloatPattern::Bits(2f32.to_bits()),
                    FloatPattern::Bits((-0f32).to_bits()),
                ])),
                Expected::RefNull(Some(RefKind::Extern)),
                Expected::RefExtern(Some(5)),
                Expected::RefFunc,
                Expected::RefNull(None),
            ]
        );
        let CommandKind::AssertTrap { action, message } = &c[6].kind else {
            panic!("not an assert_trap")
        };
        assert_eq!(message, "integer divide by zero");
        assert_eq!(
            action,
            &Action::Invoke {
                module: None,
                export: "div".into(),
                args: vec![
                    Value::V128(1 | 2 << 32 | 3 << 64 | 4 << 96),
                    Value::RefNull(RefKind::Func),
                    Value::RefExtern(3),
                ],
            }
        );
        assert!(
            matches!(&c[10].kind, CommandKind::HostChecked { assertion: HostCheckedKind::Malformed, host_error, .. } if !host_error.is_empty())
        );
    }

    #[test]
    fn unsupported_directives_are_reported_not_skipped() {
        let text = r#"(module) (assert_suspension (invoke "f") "s") (thread $T (module))"#;
        let converted = convert_wast("t.wast", text).unwrap();
        assert_eq!(converted.file.commands.len(), 1);
        let names: Vec<_> = converted.errors.iter().map(|e| e.directive).collect();
        assert_eq!(names, ["assert_suspension", "thread"]);
    }

    #[test]
    fn assert_exception_becomes_a_command() {
        let text = r#"(module) (assert_exception (invoke "f"))"#;
        let converted = convert_wast("t.wast", text).unwrap();
        assert!(converted.errors.is_empty(), "{:?}", converted.errors);
        assert!(matches!(
            converted.file.commands[1].kind,
            CommandKind::AssertException { .. }
        ));
    }

    #[test]
    fn whole_file_parse_errors_are_errors() {
        assert!(convert_wast("bad.wast", "(module (func $f)").is_err());
    }
}
