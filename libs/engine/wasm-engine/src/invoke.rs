//! Calling an export with arguments given as text and showing its results as text, the way
//! `wasmtime run --invoke NAME ARGS...` does, for hosts with a command line (atoll's
//! `just exec --invoke`): integers in decimal or `0x` hex, floats as Rust parses them;
//! results one per line.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Error;
use crate::types::{FuncType, Val, ValType};

/// The arguments `args` parsed as the parameters of `ty`; an error names the one that is
/// not a value of its type, or says there are too few or too many.
pub fn parse_args(name: &str, ty: &FuncType, args: &[&str]) -> Result<Vec<Val>, Error> {
    if args.len() != ty.params().len() {
        return Err(Error::Usage(format!(
            "`{name}` takes {} argument(s), {} given",
            ty.params().len(),
            args.len()
        )));
    }
    ty.params()
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (t, text))| {
            parse_val(*t, text).ok_or_else(|| {
                Error::Usage(format!(
                    "argument {} of `{name}`: `{text}` is not an {t}",
                    i + 1
                ))
            })
        })
        .collect()
}

fn parse_val(ty: ValType, text: &str) -> Option<Val> {
    let hex = text.strip_prefix("0x");
    Some(match ty {
        ValType::I32 => Val::I32(match hex {
            Some(h) => u32::from_str_radix(h, 16).ok()? as i32,
            None => text.parse().ok()?,
        }),
        ValType::I64 => Val::I64(match hex {
            Some(h) => u64::from_str_radix(h, 16).ok()? as i64,
            None => text.parse().ok()?,
        }),
        ValType::F32 => Val::from(text.parse::<f32>().ok()?),
        ValType::F64 => Val::from(text.parse::<f64>().ok()?),
        ValType::V128 | ValType::Ref(_) => return None,
    })
}

/// One result as `wasmtime run --invoke` prints it.
pub fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("{x}"),
        Val::I64(x) => format!("{x}"),
        Val::F32(bits) => format!("{}", f32::from_bits(*bits)),
        Val::F64(bits) => format!("{}", f64::from_bits(*bits)),
        Val::V128(x) => format!("{x}"),
        Val::FuncRef(None) => String::from("<null funcref>"),
        Val::FuncRef(Some(_)) => String::from("<funcref>"),
        Val::ExternRef(None) => String::from("<null externref>"),
        Val::ExternRef(Some(_)) => String::from("<externref>"),
        Val::ExnRef(None) => String::from("<null exnref>"),
        Val::ExnRef(Some(_)) => String::from("<exnref>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn ty(params: &[ValType]) -> FuncType {
        FuncType::new(params.iter().copied(), [])
    }

    #[test]
    fn arguments_are_parsed_by_their_parameter_types() {
        let t = ty(&[
            ValType::I32,
            ValType::I64,
            ValType::F32,
            ValType::F64,
            ValType::I32,
        ]);
        let vals = parse_args(
            "f",
            &t,
            &["-7", "0xffffffffffffffff", "1.5", "-2e3", "0x10"],
        )
        .unwrap();
        assert_eq!(
            vals.iter().map(format_val).collect::<Vec<_>>(),
            vec!["-7", "-1", "1.5", "-2000", "16"]
        );
    }

    #[test]
    fn a_bad_argument_is_an_error_naming_it() {
        let t = ty(&[ValType::I32, ValType::I32]);
        let e = parse_args("add", &t, &["1", "two"])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "argument 2 of `add`: `two` is not an i32");
        assert!(parse_args("add", &t, &["1"]).is_err());
        assert!(parse_args("add", &t, &["1", "2", "3"]).is_err());
        assert!(parse_args("add", &t, &["4294967296", "0"]).is_err());
        let refs = ty(&[ValType::FUNCREF]);
        assert!(parse_args("r", &refs, &["0"]).is_err());
    }
}
