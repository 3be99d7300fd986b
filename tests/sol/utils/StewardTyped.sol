// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Protocol} from "../../../contracts/libraries/HeritageTypes.sol";

/// @notice The EIP-712 digests of steward actions, rebuilt from the type strings independently of
///         contracts/StewardSignatures.sol, for every suite that signs as a steward (unit tests and the
///         governance invariant handler). One copy, so a type string cannot drift between suites.
library StewardTyped {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant PROTOCOL_TYPEHASH = keccak256(
        "Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,bool mlAllowed,bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion,uint32 season)"
    );
    // Referenced struct types follow the primary type (EIP-712 encodeType).
    bytes32 internal constant SET_PROTOCOL_TYPEHASH = keccak256(
        "SetProtocol(uint256 workId,uint256 communityId,Protocol protocol,uint256 nonce,uint256 deadline)Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,bool mlAllowed,bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion,uint32 season)"
    );

    /// @notice The registry's domain separator on `chainId` at `registry`.
    function domain(uint256 chainId, address registry) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("HeritageRegistry"), keccak256("1"), chainId, registry));
    }

    /// @notice The digest a steward signs: `\x19\x01 ‖ domain ‖ structHash`.
    function typed(bytes32 domain_, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domain_, structHash));
    }

    /// @notice hashStruct of a protocol. Every member of `Protocol` is an atomic static type, so
    ///         EIP-712's encodeData (each member as one 32-byte word, in declaration order) is exactly
    ///         the ABI encoding of the struct: a second derivation beside the contract's member-by-member
    ///         encoding, which would catch a member it dropped or reordered.
    function protocolHash(Protocol memory p) internal pure returns (bytes32) {
        return keccak256(abi.encode(PROTOCOL_TYPEHASH, p));
    }

    /// @notice The digest of `setProtocolBySig(workId, p, ...)` for a steward of `communityId`.
    function setProtocolDigest(
        uint256 chainId,
        address registry,
        uint256 workId,
        uint256 communityId,
        Protocol memory p,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(SET_PROTOCOL_TYPEHASH, workId, communityId, protocolHash(p), nonce, deadline));
        return typed(domain(chainId, registry), structHash);
    }
}
