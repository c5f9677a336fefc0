//! The payload of a message, kept in the cheapest form mediation allows.
//!
//! A message arrives as a byte stream and, when no mediator looks inside, leaves as the same
//! stream: a 100 MB request is never held in memory. Mediators that need the content ask for
//! it, and only then is it buffered (with a limit).

use std::pin::Pin;
use std::time::Duration;

use actix_web::error::PayloadError;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, Stream, StreamExt};

use crate::xml::Document;

/// A stream of body chunks from either side (client request or backend response).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

pub enum Body {
    Empty,
    /// Not yet read; `length` is the declared Content-Length, if any.
    Stream { stream: ByteStream, length: Option<u64> },
    Bytes(Bytes),
    /// Parsed because a mediator looked inside.
    Xml(Box<XmlBody>),
}

/// A parsed body, with the bytes it came from for as long as nobody changes it (so an
/// unchanged message goes on exactly as it arrived, without re-serialising).
pub struct XmlBody {
    pub doc: Document,
    pub original: Option<Bytes>,
}

/// Why a body could not be read into memory.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the message body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the message body could not be read: {0}")]
    Read(#[from] PayloadError),
}

/// Ends `stream` with a timeout error when it yields nothing for `idle` (the client stopped
/// sending its body). The clock restarts with every chunk, as nginx's `client_body_timeout`.
pub fn with_idle_timeout(stream: ByteStream, idle: Duration) -> ByteStream {
    Box::pin(stream::unfold(Some(stream), move |state| async move {
        let mut s = state?;
        match tokio::time::timeout(idle, s.next()).await {
            Ok(Some(item)) => Some((item, Some(s))),
            Ok(None) => None,
            Err(_) => {
                let e = std::io::Error::new(std::io::ErrorKind::TimedOut, format!("the client sent no body data for {} ms (BodyReadTimeout)", idle.as_millis()));
                Some((Err(PayloadError::Io(e)), None))
            }
        }
    }))
}

/// Whether reading a body failed because the client paused too long.
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

impl Body {
    pub fn stream(stream: ByteStream, length: Option<u64>) -> Body {
        if length == Some(0) {
            Body::Empty
        } else {
            Body::Stream { stream, length }
        }
    }

    /// The exact length when it is known without reading.
    pub fn known_length(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Stream { length, .. } => *length,
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Xml(x) => x.original.as_ref().map(|b| b.len() as u64),
        }
    }

    /// The body as it goes on the wire: a parsed body becomes bytes again.
    pub fn for_wire(self) -> Body {
        match self {
            Body::Xml(x) => Body::Bytes(x.into_bytes()),
            other => other,
        }
    }

    /// Puts `prefix` (bytes already taken from the front of the stream) back in front.
    pub fn unread(stream: ByteStream, prefix: Bytes, length: Option<u64>) -> Body {
        if prefix.is_empty() {
            return Body::stream(stream, length);
        }
        Body::Stream { stream: Box::pin(stream::once(async move { Ok(prefix) }).chain(stream)), length }
    }

    /// Reads the whole body into memory, refusing more than `limit` bytes.
    pub async fn into_bytes(self, limit: usize) -> Result<Bytes, BodyError> {
        match self {
            Body::Empty => Ok(Bytes::new()),
            Body::Bytes(b) if b.len() > limit => Err(BodyError::TooLarge { limit }),
            Body::Bytes(b) => Ok(b),
            Body::Xml(x) => Ok(x.into_bytes()),
            Body::Stream { length: Some(n), .. } if n > limit as u64 => Err(BodyError::TooLarge { limit }),
            Body::Stream { mut stream, length } => {
                let mut buf = BytesMut::with_capacity(length.unwrap_or(8 * 1024) as usize);
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    if buf.len() + chunk.len() > limit {
                        return Err(BodyError::TooLarge { limit });
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(buf.freeze())
            }
        }
    }
}

impl XmlBody {
    pub fn into_bytes(self) -> Bytes {
        match self.original {
            Some(b) => b,
            None => Bytes::from(self.doc.to_xml()),
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => f.write_str("Body::Empty"),
            Body::Stream { length, .. } => write!(f, "Body::Stream(length: {length:?})"),
            Body::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Body::Xml(x) => write!(f, "Body::Xml(changed: {})", x.original.is_none()),
        }
    }
}
