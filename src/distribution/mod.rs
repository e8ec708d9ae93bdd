//! Distributions: wheel and sdist filenames (PEP 427 / 625), compatibility tags (PEP 425,
//! 600, 656), wheel METADATA / WHEEL / RECORD reading, and checks on built wheels.

mod filename;
pub mod hash;
mod metadata;
#[cfg(test)]
mod proptests;
mod requires_python;
mod safe;
mod tags;
mod validate;

pub use filename::{DistFilename, FilenameError, SdistExtension, SdistFilename, WheelFilename};
pub use hash::sha256_file;
pub use metadata::{
    CoreMetadata, MetadataError, WheelError, WheelInfo, read_wheel, read_wheel_metadata_bytes,
};
pub(crate) use metadata::{MAX_METADATA_BYTES, find_dist_info, read_member, wheel_filename};
pub use requires_python::{RequiresPythonError, requires_python_of};
pub use safe::{BadSha256, MAX_FILENAME_BYTES, SafeFilename, Sha256, UnsafeFilename};
pub use tags::{Compatibility, IncompatibleTag, ParseTagError, Tag, TagSet};
pub use validate::{ValidationError, WheelLimits, validate_built_wheel};
