//! The protobuf codec of every gRPC service and client: prost's, with a
//! smaller starting buffer. tonic starts each message's encode and decode
//! buffer at 8 KiB; a check's request and answer are under 200 bytes, and
//! allocating (and zeroing the bookkeeping of) 16 KiB a call showed in the
//! profile of a server answering checks. Larger messages grow the buffer.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::BufferSettings;
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Bytes a message's buffer starts with.
const BUFFER: usize = 1024;
/// tonic's default: how much an encoded stream may buffer before yielding.
const YIELD: usize = 32 * 1024;

/// [`ProstCodec`] with [`BUFFER`]-byte starting buffers.
#[derive(Debug, Clone, Copy)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Codec(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::new(BUFFER, YIELD))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(BufferSettings::new(BUFFER, YIELD))
    }
}
