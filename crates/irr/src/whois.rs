//! A client for IRRd's whois query language (`!` commands) on one
//! persistent connection.
//!
//! Framing (IRRd 4.x): `A<n>\n` followed by n bytes (trailing newline
//! included) then `C\n`; `C\n` alone is success without data, `D\n` "not
//! found", `E\n` "more than one key", `F text\n` an error. After `!!` the
//! server keeps the connection open and answers every command in order,
//! but sends nothing for `!!` itself, so replies pair with queries strictly
//! in order.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::IrrError;

/// Limits that keep a slow, broken or hostile server from holding us or
/// making us allocate without bound.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connecting, and waiting for any one answer.
    pub timeout: Duration,
    /// Largest answer accepted (the `n` of `A<n>`), in bytes.
    pub max_answer: usize,
    /// Queries written ahead of the answers read.
    pub pipeline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // AS-HURRICANE's `!a4` is about 3 MB today; leave room for growth.
        Limits { timeout: Duration::from_secs(30), max_answer: 64 << 20, pipeline: 64 }
    }
}

/// A status line longer than this is not IRRd speaking.
const MAX_STATUS_LINE: usize = 4096;

/// One answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `A…C` or `C`: the data (empty for `C`).
    Data(String),
    /// `D`: no such object.
    NotFound,
}

impl Answer {
    /// The whitespace-separated words of the data (none when not found).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        match self {
            Answer::Data(text) => text.split_whitespace(),
            Answer::NotFound => "".split_whitespace(),
        }
    }
}

/// One persistent whois connection.
pub struct WhoisClient {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    limits: Limits,
    server: String,
    supports_a: bool,
}

impl WhoisClient {
    /// Connects to `server` (`host:port`), switches to persistent mode and
    /// identifies as `client_name`; probes whether the server knows `!a`.
    pub async fn connect(server: &str, client_name: &str, limits: Limits) -> Result<WhoisClient, IrrError> {
        let stream = tokio::time::timeout(limits.timeout, TcpStream::connect(server))
            .await
            .map_err(|_| IrrError::Timeout { server: server.to_owned() })?
            .map_err(|e| IrrError::Io { server: server.to_owned(), error: e.to_string() })?;
        let (read, write) = stream.into_split();
        let mut client = WhoisClient {
            reader: BufReader::new(read),
            writer: write,
            limits,
            server: server.to_owned(),
            supports_a: false,
        };
        // `!!` has no answer of its own; `!n` answers `C`.
        let name: String = client_name.chars().filter(|c| c.is_ascii_graphic()).collect();
        client.write(format!("!!\n!n{name}\n").as_bytes()).await?;
        client.read_answer("!n").await?;
        // Like bgpq4: a server that knows `!a` complains about the missing set name.
        client.supports_a = match client.query("!a").await {
            Err(IrrError::Server { message, .. }) => message.starts_with("Missing required set name"),
            _ => false,
        };
        Ok(client)
    }

    /// Whether the server expands a set into prefixes itself (`!a`).
    pub fn supports_a(&self) -> bool {
        self.supports_a
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one query and reads its answer.
    pub async fn query(&mut self, query: &str) -> Result<Answer, IrrError> {
        let mut answers = self.pipeline(std::slice::from_ref(&query.to_owned())).await?;
        answers.pop().expect("one query, one answer")
    }

    /// Sends `queries` pipelined (at most `Limits::pipeline` ahead) and
    /// returns their answers in order. A server error (`F`) or a missing
    /// object is the answer of that query only; a broken connection, a
    /// timeout or an answer over the size limit fails the whole call (the
    /// connection is unusable afterwards).
    pub async fn pipeline(&mut self, queries: &[String]) -> Result<Vec<Result<Answer, IrrError>>, IrrError> {
        for query in queries {
            if query.contains(['\n', '\r']) || query.len() > MAX_STATUS_LINE {
                return Err(IrrError::BadQuery(query.chars().take(80).collect()));
            }
        }
        let mut answers = Vec::with_capacity(queries.len());
        for batch in queries.chunks(self.limits.pipeline.max(1)) {
            let mut out = String::new();
            for query in batch {
                out.push_str(query);
                out.push('\n');
            }
            self.write(out.as_bytes()).await?;
            for query in batch {
                match self.read_answer(query).await {
                    Err(e @ IrrError::Server { .. }) => answers.push(Err(e)),
                    Err(e) => return Err(e),
                    Ok(answer) => answers.push(Ok(answer)),
                }
            }
        }
        Ok(answers)
    }

    /// Ends the session politely (`!q`).
    pub async fn close(mut self) {
        let _ = self.write(b"!q\n").await;
        let _ = self.writer.shutdown().await;
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), IrrError> {
        tokio::time::timeout(self.limits.timeout, self.writer.write_all(bytes))
            .await
            .map_err(|_| IrrError::Timeout { server: self.server.clone() })?
            .map_err(|e| IrrError::Io { server: self.server.clone(), error: e.to_string() })
    }

    async fn read_answer(&mut self, query: &str) -> Result<Answer, IrrError> {
        let limits = self.limits;
        let server = self.server.clone();
        let read = read_answer(&mut self.reader, limits.max_answer, query, &server);
        tokio::time::timeout(limits.timeout, read).await.map_err(|_| IrrError::Timeout { server })?
    }
}

/// Reads one framed answer from `reader`.
pub(crate) async fn read_answer<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max_answer: usize,
    query: &str,
    server: &str,
) -> Result<Answer, IrrError> {
    let protocol = |what: String| IrrError::Protocol { server: server.to_owned(), what };
    let line = read_line(reader, server).await?;
    match line.as_bytes().first() {
        Some(b'A') => {
            let n: usize = line[1..].trim().parse().map_err(|_| protocol(format!("bad length line {line:?}")))?;
            if n > max_answer {
                return Err(IrrError::TooLarge {
                    server: server.to_owned(),
                    query: query.to_owned(),
                    limit: max_answer,
                });
            }
            // `take` + `read_to_end` grow the buffer as bytes arrive, so a
            // lying length costs nothing until the bytes are really sent.
            let mut data = Vec::new();
            (&mut *reader)
                .take(n as u64)
                .read_to_end(&mut data)
                .await
                .map_err(|e| IrrError::Io { server: server.to_owned(), error: e.to_string() })?;
            if data.len() < n {
                return Err(IrrError::Io { server: server.to_owned(), error: "connection closed mid-answer".into() });
            }
            let end = read_line(reader, server).await?;
            if end != "C" {
                return Err(protocol(format!("expected C after the data, got {end:?}")));
            }
            String::from_utf8(data).map(Answer::Data).map_err(|_| protocol("answer is not UTF-8".into()))
        }
        Some(b'C') if line == "C" => Ok(Answer::Data(String::new())),
        Some(b'D') if line == "D" => Ok(Answer::NotFound),
        Some(b'E') if line == "E" => Err(IrrError::Server {
            server: server.to_owned(),
            query: query.to_owned(),
            message: "more than one object matches".into(),
        }),
        Some(b'F') => Err(IrrError::Server {
            server: server.to_owned(),
            query: query.to_owned(),
            message: line[1..].trim().to_owned(),
        }),
        _ => Err(protocol(format!("unexpected line {:?}", line.chars().take(80).collect::<String>()))),
    }
}

/// One status line without its line end, at most `MAX_STATUS_LINE` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, server: &str) -> Result<String, IrrError> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_STATUS_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| IrrError::Io { server: server.to_owned(), error: e.to_string() })?;
    if read == 0 {
        return Err(IrrError::Io { server: server.to_owned(), error: "connection closed".into() });
    }
    if line.last() != Some(&b'\n') {
        return Err(IrrError::Protocol { server: server.to_owned(), what: "status line too long or cut".into() });
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8], max: usize) -> Result<Answer, IrrError> {
        let mut reader = BufReader::new(bytes);
        read_answer(&mut reader, max, "!q", "test").await
    }

    #[tokio::test]
    async fn framing() {
        assert_eq!(parse(b"A16\nAS-CUST AS65001\nC\n", 100).await.unwrap(), Answer::Data("AS-CUST AS65001\n".into()));
        assert_eq!(parse(b"C\n", 100).await.unwrap(), Answer::Data(String::new()));
        assert_eq!(parse(b"D\n", 100).await.unwrap(), Answer::NotFound);
        let err = parse(b"F Unrecognised command: x\n", 100).await.unwrap_err();
        assert!(matches!(&err, IrrError::Server { message, .. } if message == "Unrecognised command: x"), "{err}");
    }

    #[tokio::test]
    async fn hostile_answers_are_refused_without_allocating() {
        // A claimed 1 TB answer is refused before reading it.
        assert!(matches!(parse(b"A1000000000000\n", 1 << 20).await, Err(IrrError::TooLarge { .. })));
        // A length the data does not deliver is a cut connection.
        assert!(matches!(parse(b"A100\nshort", 1 << 20).await, Err(IrrError::Io { .. })));
        // A "line" without end is cut at 4 KiB.
        let long = vec![b'A'; 10_000];
        assert!(matches!(parse(&long, 1 << 20).await, Err(IrrError::Protocol { .. })));
        assert!(matches!(parse(b"A5\nabcd\nX\n", 100).await, Err(IrrError::Protocol { .. })));
        assert!(matches!(parse(b"hello\n", 100).await, Err(IrrError::Protocol { .. })));
        assert!(matches!(parse(b"", 100).await, Err(IrrError::Io { .. })));
    }
}
