//! The host side of the host link (`libs/kernel/hostlink`): frames from atoll become each run's
//! stdout, stderr and exit code; each run's stdin is sent when atoll says the run began.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;

use hostlink::{Decoder, Kind};

/// What came back for one run.
#[derive(Debug, Default)]
pub struct RunOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Both streams in the order atoll sent them.
    pub merged: Vec<u8>,
    pub code: Option<u32>,
}

/// Where the runs' input comes from.
pub enum Input {
    /// This process's stdin, for the one run.
    Inherit,
    /// Each run's input, all of it.
    Given(Vec<Vec<u8>>),
}

/// Reads frames until the link closes, into one [`RunOutput`] per run (`runs` of them).
/// With `echo`, output also goes to this process's stdout and stderr as it arrives. Each
/// `Begin` is passed to `begun` (the stdin sender).
pub fn receive(
    mut stream: UnixStream,
    runs: usize,
    echo: bool,
    begun: mpsc::Sender<u32>,
) -> Result<Vec<RunOutput>, String> {
    let mut got: Vec<RunOutput> = (0..runs.max(1)).map(|_| RunOutput::default()).collect();
    let mut current = 0usize;
    let mut decoder = Decoder::new();
    let mut word = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (used, piece) = decoder.feed(rest).map_err(|e| e.to_string())?;
            rest = &rest[used..];
            let Some(p) = piece else { continue };
            let run = &mut got[current];
            match p.kind {
                Kind::Stdout | Kind::Stderr => {
                    let (stream, sink): (&mut Vec<u8>, &mut dyn Write) = if p.kind == Kind::Stdout {
                        (&mut run.stdout, &mut out)
                    } else {
                        (&mut run.stderr, &mut err)
                    };
                    stream.extend_from_slice(p.data);
                    run.merged.extend_from_slice(p.data);
                    if echo {
                        // A closed pipe on our side is the reader's business, as with a
                        // native program whose output nobody reads.
                        let _ = sink.write_all(p.data).and_then(|()| sink.flush());
                    }
                }
                Kind::Exit | Kind::Begin => {
                    word.extend_from_slice(p.data);
                    if p.end {
                        let value = u32::from_le_bytes(
                            word.as_slice()
                                .try_into()
                                .map_err(|_| "host link: a short frame".to_string())?,
                        );
                        word.clear();
                        if p.kind == Kind::Exit {
                            run.code = Some(value);
                        } else {
                            if value as usize >= got.len() {
                                return Err(format!("host link: run {value} of {runs} began"));
                            }
                            current = value as usize;
                            let _ = begun.send(value);
                        }
                    }
                }
                Kind::Stdin | Kind::StdinEof => {
                    return Err(format!("host link: atoll sent a {:?} frame", p.kind));
                }
            }
        }
    }
    Ok(got)
}

/// Sends the runs' input on a thread of its own: this process's stdin for the one run at
/// once (it may be a terminal the user types at), or each given input when its run begins.
pub fn send_input(mut stream: UnixStream, input: Input, begun: mpsc::Receiver<u32>) {
    std::thread::spawn(move || match input {
        Input::Inherit => {
            if pump_stdin(&mut stream) {
                let _ = stream.write_all(&hostlink::header(Kind::StdinEof, 0));
            }
        }
        Input::Given(inputs) => {
            for run in begun {
                let data = inputs.get(run as usize).map_or(&[][..], Vec::as_slice);
                if !send(&mut stream, data)
                    || stream
                        .write_all(&hostlink::header(Kind::StdinEof, 0))
                        .is_err()
                {
                    break;
                }
            }
        }
    });
}

fn send(stream: &mut UnixStream, data: &[u8]) -> bool {
    data.chunks(hostlink::MAX_PAYLOAD).all(|chunk| {
        stream
            .write_all(&hostlink::header(Kind::Stdin, chunk.len()))
            .and_then(|()| stream.write_all(chunk))
            .is_ok()
    })
}

/// Forwards this process's stdin until it ends; false if the link closed first.
fn pump_stdin(stream: &mut UnixStream) -> bool {
    let mut input = std::io::stdin().lock();
    let mut buf = vec![0u8; hostlink::MAX_PAYLOAD];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                if !send(stream, &buf[..n]) {
                    return false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // An unreadable stdin ends like an empty one.
            Err(_) => return true,
        }
    }
}
