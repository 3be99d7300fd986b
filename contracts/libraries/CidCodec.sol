// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Binary CIDv1 with a sha2-256 multihash, packed into a digest and a codec byte
/// @notice The platform's content identifiers are what `ipfs add --cid-version=1` prints:
///         CIDv1, codec raw (0x55) for single-block files or dag-pb (0x70) for larger ones,
///         multihash sha2-256 (0x12, length 0x20). In binary that is 36 bytes:
///         0x01 ‖ codec ‖ 0x12 ‖ 0x20 ‖ digest. Storing only the digest and the codec costs one
///         slot instead of three, and `encode` gives the exact bytes back.
library CidCodec {
    uint8 internal constant RAW = 0x55;
    uint8 internal constant DAG_PB = 0x70;
    uint256 internal constant LENGTH = 36;

    /// @notice The bytes are not a CIDv1 (raw or dag-pb) with a sha2-256 multihash.
    error CidUnsupported(bytes cid);

    /// @notice Split a binary CID into its codec and digest, or revert with `CidUnsupported`.
    function decode(bytes calldata cid) internal pure returns (uint8 codec, bytes32 digest) {
        if (cid.length != LENGTH || cid[0] != 0x01 || cid[2] != 0x12 || cid[3] != 0x20) {
            revert CidUnsupported(cid);
        }
        codec = uint8(cid[1]);
        if (codec != RAW && codec != DAG_PB) revert CidUnsupported(cid);
        digest = bytes32(cid[4:36]);
    }

    /// @notice The binary CID for a codec and digest; empty when the codec is 0 (no CID).
    function encode(uint8 codec, bytes32 digest) internal pure returns (bytes memory) {
        if (codec == 0) return "";
        return abi.encodePacked(uint8(0x01), codec, uint8(0x12), uint8(0x20), digest);
    }

    /// @notice Multibase base32 (lower case, no padding, prefix "b"): the text form IPFS prints.
    function toBase32(bytes memory data) internal pure returns (string memory) {
        bytes memory alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        uint256 outLength = (data.length * 8 + 4) / 5;
        bytes memory out = new bytes(outLength + 1);
        out[0] = "b";
        uint256 buffer;
        uint256 bits;
        uint256 o = 1;
        for (uint256 i; i < data.length; ++i) {
            buffer = (buffer << 8) | uint8(data[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[o++] = alphabet[(buffer >> bits) & 31];
            }
            buffer &= (uint256(1) << bits) - 1;
        }
        if (bits > 0) out[o] = alphabet[(buffer << (5 - bits)) & 31];
        return string(out);
    }
}
