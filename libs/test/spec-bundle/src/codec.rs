//! The bundle wire format.
//!
//! ```text
//! bundle   := MAGIC "ATSB" | version: u16 LE | count: uleb | file*
//! file     := name: str | count: uleb | command*
//! command  := tag: u8 | line: uleb | payload (per tag, see `encode_command`)
//! str      := len: uleb | UTF-8 bytes        bytes := len: uleb | raw bytes
//! opt<T>   := 0 | 1 T                          scalars are fixed-size little endian
//! ```
//!
//! Unknown tags, truncated input, invalid UTF-8, over-deep `either`
//! nesting and trailing bytes are all decode errors.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{
    Action, Bundle, Command, CommandKind, Expected, File, FloatPattern, HostCheckedKind, RefKind,
    V128Pattern, Value,
};

/// First four bytes of every bundle.
pub const MAGIC: [u8; 4] = *b"ATSB";
/// Bumped on every incompatible change of the wire format.
pub const FORMAT_VERSION: u16 = 1;

/// Deepest `either` nesting accepted, so decoding recursion stays bounded.
const MAX_EITHER_DEPTH: u32 = 4;

/// Why a bundle could not be decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the input at which the problem was found.
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    BadMagic,
    UnsupportedVersion(u16),
    UnexpectedEnd,
    BadLeb,
    InvalidUtf8,
    UnknownTag { what: &'static str, tag: u8 },
    TooDeep,
    TrailingBytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec bundle decode error at byte {}: ", self.offset)?;
        match &self.kind {
            DecodeErrorKind::BadMagic => f.write_str("not a spec bundle (bad magic)"),
            DecodeErrorKind::UnsupportedVersion(v) => {
                write!(
                    f,
                    "unsupported format version {v} (expected {FORMAT_VERSION})"
                )
            }
            DecodeErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            DecodeErrorKind::BadLeb => f.write_str("malformed or oversized LEB128 integer"),
            DecodeErrorKind::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeErrorKind::UnknownTag { what, tag } => write!(f, "unknown {what} tag {tag}"),
            DecodeErrorKind::TooDeep => f.write_str("`either` patterns nested too deeply"),
            DecodeErrorKind::TrailingBytes => f.write_str("trailing bytes after the last file"),
        }
    }
}

impl core::error::Error for DecodeError {}

// Command tags.
const CMD_MODULE: u8 = 0;
const CMD_MODULE_DEFINITION: u8 = 1;
const CMD_MODULE_INSTANCE: u8 = 2;
const CMD_REGISTER: u8 = 3;
const CMD_ACTION: u8 = 4;
const CMD_ASSERT_RETURN: u8 = 5;
const CMD_ASSERT_TRAP: u8 = 6;
const CMD_ASSERT_EXHAUSTION: u8 = 7;
const CMD_ASSERT_MALFORMED: u8 = 8;
const CMD_ASSERT_INVALID: u8 = 9;
const CMD_ASSERT_UNLINKABLE: u8 = 10;
const CMD_ASSERT_UNINSTANTIABLE: u8 = 11;
const CMD_HOST_CHECKED: u8 = 12;
const CMD_ASSERT_EXCEPTION: u8 = 13;

pub(crate) fn encode(bundle: &Bundle) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.raw(&MAGIC);
    w.raw(&FORMAT_VERSION.to_le_bytes());
    w.uleb(bundle.files.len() as u64);
    for file in &bundle.files {
        w.str(&file.name);
        w.uleb(file.commands.len() as u64);
        for command in &file.commands {
            encode_command(&mut w, command);
        }
    }
    w.0
}

fn encode_command(w: &mut Writer, command: &Command) {
    let tag = match &command.kind {
        CommandKind::Module { .. } => CMD_MODULE,
        CommandKind::ModuleDefinition { .. } => CMD_MODULE_DEFINITION,
        CommandKind::ModuleInstance { .. } => CMD_MODULE_INSTANCE,
        CommandKind::Register { .. } => CMD_REGISTER,
        CommandKind::Action(_) => CMD_ACTION,
        CommandKind::AssertReturn { .. } => CMD_ASSERT_RETURN,
        CommandKind::AssertTrap { .. } => CMD_ASSERT_TRAP,
        CommandKind::AssertExhaustion { .. } => CMD_ASSERT_EXHAUSTION,
        CommandKind::AssertMalformed { .. } => CMD_ASSERT_MALFORMED,
        CommandKind::AssertInvalid { .. } => CMD_ASSERT_INVALID,
        CommandKind::AssertUnlinkable { .. } => CMD_ASSERT_UNLINKABLE,
        CommandKind::AssertUninstantiable { .. } => CMD_ASSERT_UNINSTANTIABLE,
        CommandKind::HostChecked { .. } => CMD_HOST_CHECKED,
        CommandKind::AssertException { .. } => CMD_ASSERT_EXCEPTION,
    };
    w.u8(tag);
    w.uleb(u64::from(command.line));
    match &command.kind {
        CommandKind::Module { name, bytes } | CommandKind::ModuleDefinition { name, bytes } => {
            w.opt_str(name.as_deref());
            w.bytes(bytes);
        }
        CommandKind::ModuleInstance { instance, module } => {
            w.opt_str(instance.as_deref());
            w.opt_str(module.as_deref());
        }
        CommandKind::Register { as_name, module } => {
            w.str(as_name);
            w.opt_str(module.as_deref());
        }
        CommandKind::Action(action) | CommandKind::AssertException { action } => {
            encode_action(w, action)
        }
        CommandKind::AssertReturn { action, expected } => {
            encode_action(w, action);
            w.uleb(expected.len() as u64);
            for e in expected {
                encode_expected(w, e);
            }
        }
        CommandKind::AssertTrap { action, message }
        | CommandKind::AssertExhaustion { action, message } => {
            encode_action(w, action);
            w.str(message);
        }
        CommandKind::AssertMalformed { bytes, message }
        | CommandKind::AssertInvalid { bytes, message }
        | CommandKind::AssertUnlinkable { bytes, message }
        | CommandKind::AssertUninstantiable { bytes, message } => {
            w.bytes(bytes);
            w.str(message);
        }
        CommandKind::HostChecked {
            assertion,
            message,
            host_error,
        } => {
            w.u8(match assertion {
                HostCheckedKind::Malformed => 0,
                HostCheckedKind::Invalid => 1,
            });
            w.str(message);
            w.str(host_error);
        }
    }
}

fn encode_action(w: &mut Writer, action: &Action) {
    match action {
        Action::Invoke {
            module,
            export,
            args,
        } => {
            w.u8(0);
            w.opt_str(module.as_deref());
            w.str(export);
            w.uleb(args.len() as u64);
            for arg in args {
                encode_value(w, arg);
            }
        }
        Action::Get { module, export } => {
            w.u8(1);
            w.opt_str(module.as_deref());
            w.str(export);
        }
    }
}

fn encode_value(w: &mut Writer, value: &Value) {
    match *value {
        Value::I32(v) => {
            w.u8(0);
            w.raw(&v.to_le_bytes());
        }
        Value::I64(v) => {
            w.u8(1);
            w.raw(&v.to_le_bytes());
        }
        Value::F32(v) => {
            w.u8(2);
            w.raw(&v.to_le_bytes());
        }
        Value::F64(v) => {
            w.u8(3);
            w.raw(&v.to_le_bytes());
        }
        Value::V128(v) => {
            w.u8(4);
            w.raw(&v.to_le_bytes());
        }
        Value::RefNull(kind) => {
            w.u8(5);
            w.u8(ref_kind_tag(kind));
        }
        Value::RefExtern(v) => {
            w.u8(6);
            w.raw(&v.to_le_bytes());
        }
    }
}

fn ref_kind_tag(kind: RefKind) -> u8 {
    match kind {
        RefKind::Func => 1,
        RefKind::Extern => 2,
    }
}

fn encode_f32_pattern(w: &mut Writer, p: &FloatPattern<u32>) {
    match p {
        FloatPattern::Bits(b) => {
            w.u8(0);
            w.raw(&b.to_le_bytes());
        }
        FloatPattern::CanonicalNan => w.u8(1),
        FloatPattern::ArithmeticNan => w.u8(2),
    }
}

fn encode_f64_pattern(w: &mut Writer, p: &FloatPattern<u64>) {
    match p {
        FloatPattern::Bits(b) => {
            w.u8(0);
            w.raw(&b.to_le_bytes());
        }
        FloatPattern::CanonicalNan => w.u8(1),
        FloatPattern::ArithmeticNan => w.u8(2),
    }
}

fn encode_expected(w: &mut Writer, e: &Expected) {
    match e {
        Expected::I32(v) => {
            w.u8(0);
            w.raw(&v.to_le_bytes());
        }
        Expected::I64(v) => {
            w.u8(1);
            w.raw(&v.to_le_bytes());
        }
        Expected::F32(p) => {
            w.u8(2);
            encode_f32_pattern(w, p);
        }
        Expected::F64(p) => {
            w.u8(3);
            encode_f64_pattern(w, p);
        }
        Expected::V128(p) => {
            w.u8(4);
            match p {
                V128Pattern::Bits(b) => {
                    w.u8(0);
                    w.raw(&b.to_le_bytes());
                }
                V128Pattern::F32x4(lanes) => {
                    w.u8(1);
                    lanes.iter().for_each(|l| encode_f32_pattern(w, l));
                }
                V128Pattern::F64x2(lanes) => {
                    w.u8(2);
                    lanes.iter().for_each(|l| encode_f64_pattern(w, l));
                }
            }
        }
        Expected::RefNull(kind) => {
            w.u8(5);
            w.u8(kind.map_or(0, ref_kind_tag));
        }
        Expected::RefFunc => w.u8(6),
        Expected::RefExtern(v) => {
            w.u8(7);
            match v {
                None => w.u8(0),
                Some(v) => {
                    w.u8(1);
                    w.raw(&v.to_le_bytes());
                }
            }
        }
        Expected::Either(alternatives) => {
            w.u8(8);
            w.uleb(alternatives.len() as u64);
            for a in alternatives {
                encode_expected(w, a);
            }
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn uleb(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.uleb(bytes.len() as u64);
        self.raw(bytes);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Bundle, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(r.error_at(0, DecodeErrorKind::BadMagic));
    }
    let version = u16::from_le_bytes(r.array()?);
    if version != FORMAT_VERSION {
        return Err(r.error_at(4, DecodeErrorKind::UnsupportedVersion(version)));
    }
    let count = r.count()?;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let name = r.str()?;
        let count = r.count()?;
        let mut commands = Vec::with_capacity(count);
        for _ in 0..count {
            commands.push(r.command()?);
        }
        files.push(File { name, commands });
    }
    if r.pos != bytes.len() {
        return Err(r.error(DecodeErrorKind::TrailingBytes));
    }
    Ok(Bundle { files })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        self.error_at(self.pos, kind)
    }

    fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error(DecodeErrorKind::UnexpectedEnd))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    fn uleb(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut result = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may only carry the top bit of a u64.
            if shift == 63 && bits > 1 {
                break;
            }
            result |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(self.error_at(start, DecodeErrorKind::BadLeb))
    }

    /// A length or element count. Every element takes at least one byte, so a
    /// count beyond the remaining input is truncated data; checking that here
    /// keeps `Vec::with_capacity` bounded by the input size.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let start = self.pos;
        let n = self.uleb()?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if n > remaining {
            return Err(self.error_at(start, DecodeErrorKind::UnexpectedEnd));
        }
        Ok(n as usize)
    }

    fn line(&mut self) -> Result<u32, DecodeError> {
        let start = self.pos;
        let n = self.uleb()?;
        u32::try_from(n).map_err(|_| self.error_at(start, DecodeErrorKind::BadLeb))
    }

    fn byte_vec(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.count()?;
        Ok(self.take(n)?.to_vec())
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let start = self.pos;
        let bytes = self.byte_vec()?;
        String::from_utf8(bytes).map_err(|_| self.error_at(start, DecodeErrorKind::InvalidUtf8))
    }

    fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            tag => Err(self.unknown_tag("option", tag)),
        }
    }

    fn unknown_tag(&self, what: &'static str, tag: u8) -> DecodeError {
        self.error_at(self.pos - 1, DecodeErrorKind::UnknownTag { what, tag })
    }

    fn command(&mut self) -> Result<Command, DecodeError> {
        let tag = self.u8()?;
        let tag_pos = self.pos - 1;
        let line = self.line()?;
        let kind = match tag {
            CMD_MODULE => CommandKind::Module {
                name: self.opt_str()?,
                bytes: self.byte_vec()?,
            },
            CMD_MODULE_DEFINITION => CommandKind::ModuleDefinition {
                name: self.opt_str()?,
                bytes: self.byte_vec()?,
            },
            CMD_MODULE_INSTANCE => CommandKind::ModuleInstance {
                instance: self.opt_str()?,
                module: self.opt_str()?,
            },
            CMD_REGISTER => CommandKind::Register {
                as_name: self.str()?,
                module: self.opt_str()?,
            },
            CMD_ACTION => CommandKind::Action(self.action()?),
            CMD_ASSERT_RETURN => {
                let action = self.action()?;
                let n = self.count()?;
                let mut expected = Vec::with_capacity(n);
                for _ in 0..n {
                    expected.push(self.expected(0)?);
                }
                CommandKind::AssertReturn { action, expected }
            }
            CMD_ASSERT_TRAP => CommandKind::AssertTrap {
                action: self.action()?,
                message: self.str()?,
            },
            CMD_ASSERT_EXCEPTION => CommandKind::AssertException {
                action: self.action()?,
            },
            CMD_ASSERT_EXHAUSTION => CommandKind::AssertExhaustion {
                action: self.action()?,
                message: self.str()?,
            },
            CMD_ASSERT_MALFORMED => CommandKind::AssertMalformed {
                bytes: self.byte_vec()?,
                message: self.str()?,
            },
            CMD_ASSERT_INVALID => CommandKind::AssertInvalid {
                bytes: self.byte_vec()?,
                message: self.str()?,
            },
            CMD_ASSERT_UNLINKABLE => CommandKind::AssertUnlinkable {
                bytes: self.byte_vec()?,
                message: self.str()?,
            },
            CMD_ASSERT_UNINSTANTIABLE => CommandKind::AssertUninstantiable {
                bytes: self.byte_vec()?,
                message: self.str()?,
            },
            CMD_HOST_CHECKED => {
                let assertion = match self.u8()? {
                    0 => HostCheckedKind::Malformed,
                    1 => HostCheckedKind::Invalid,
                    tag => return Err(self.unknown_tag("host-checked assertion", tag)),
                };
                CommandKind::HostChecked {
                    assertion,
                    message: self.str()?,
                    host_error: self.str()?,
                }
            }
            tag => {
                return Err(self.error_at(
                    tag_pos,
                    DecodeErrorKind::UnknownTag {
                        what: "command",
                        tag,
                    },
                ));
            }
        };
        Ok(Command { line, kind })
    }

    fn action(&mut self) -> Result<Action, DecodeError> {
        match self.u8()? {
            0 => {
                let module = self.opt_str()?;
                let export = self.str()?;
                let n = self.count()?;
                let mut args = Vec::with_capacity(n);
                for _ in 0..n {
                    args.push(self.value()?);
                }
                Ok(Action::Invoke {
                    module,
                    export,
                    args,
                })
            }
            1 => Ok(Action::Get {
                module: self.opt_str()?,
                export: self.str()?,
            }),
            tag => Err(self.unknown_tag("action", tag)),
        }
    }

    fn ref_kind(&mut self) -> Result<RefKind, DecodeError> {
        match self.u8()? {
            1 => Ok(RefKind::Func),
            2 => Ok(RefKind::Extern),
            tag => Err(self.unknown_tag("reference kind", tag)),
        }
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        Ok(match self.u8()? {
            0 => Value::I32(self.u32()?),
            1 => Value::I64(self.u64()?),
            2 => Value::F32(self.u32()?),
            3 => Value::F64(self.u64()?),
            4 => Value::V128(self.u128()?),
            5 => Value::RefNull(self.ref_kind()?),
            6 => Value::RefExtern(self.u32()?),
            tag => return Err(self.unknown_tag("value", tag)),
        })
    }

    fn f32_pattern(&mut self) -> Result<FloatPattern<u32>, DecodeError> {
        Ok(match self.u8()? {
            0 => FloatPattern::Bits(self.u32()?),
            1 => FloatPattern::CanonicalNan,
            2 => FloatPattern::ArithmeticNan,
            tag => return Err(self.unknown_tag("float pattern", tag)),
        })
    }

    fn f64_pattern(&mut self) -> Result<FloatPattern<u64>, DecodeError> {
        Ok(match self.u8()? {
            0 => FloatPattern::Bits(self.u64()?),
            1 => FloatPattern::CanonicalNan,
            2 => FloatPattern::ArithmeticNan,
            tag => return Err(self.unknown_tag("float pattern", tag)),
        })
    }

    fn expected(&mut self, depth: u32) -> Result<Expected, DecodeError> {
        Ok(match self.u8()? {
            0 => Expected::I32(self.u32()?),
            1 => Expected::I64(self.u64()?),
            2 => Expected::F32(self.f32_pattern()?),
            3 => Expected::F64(self.f64_pattern()?),
            4 => Expected::V128(match self.u8()? {
                0 => V128Pattern::Bits(self.u128()?),
                1 => V128Pattern::F32x4([
                    self.f32_pattern()?,
                    self.f32_pattern()?,
                    self.f32_pattern()?,
                    self.f32_pattern()?,
                ]),
                2 => V128Pattern::F64x2([self.f64_pattern()?, self.f64_pattern()?]),
                tag => return Err(self.unknown_tag("v128 pattern", tag)),
            }),
            5 => Expected::RefNull(match self.u8()? {
                0 => None,
                1 => Some(RefKind::Func),
                2 => Some(RefKind::Extern),
                tag => return Err(self.unknown_tag("reference kind", tag)),
            }),
            6 => Expected::RefFunc,
            7 => Expected::RefExtern(match self.u8()? {
                0 => None,
                1 => Some(self.u32()?),
                tag => return Err(self.unknown_tag("option", tag)),
            }),
            8 => {
                if depth >= MAX_EITHER_DEPTH {
                    return Err(self.error(DecodeErrorKind::TooDeep));
                }
                let n = self.count()?;
                let mut alternatives = Vec::with_capacity(n);
                for _ in 0..n {
                    alternatives.push(self.expected(depth + 1)?);
                }
                Expected::Either(alternatives)
            }
            tag => return Err(self.unknown_tag("expected result", tag)),
        })
    }
}
