// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {HeritageParams, Protocol, Recipient} from "./libraries/HeritageTypes.sol";

/// @title EIP-712 typed data for steward actions submitted by a relayer
/// @notice A steward signs an action off-chain; anyone (the API) submits it. Each signature
///         carries the steward's current nonce (consumed on use, so it cannot be replayed; a
///         steward may also burn it with `cancelNonce`), a deadline, the ids it decides on
///         (work and community), and the domain's chain id and contract address (so it cannot
///         be replayed on another chain or registry). Contract stewards sign through ERC-1271.
///         The type strings are the constants below (and contracts/README.md); the digest is
///         EIP-712's keccak256("\x19\x01" ‖ domainSeparator ‖ structHash), domain from
///         `eip712Domain()` (ERC-5267). Digest views exist for the two v1 actions only (code size);
///         clients hash the other typed data themselves.
abstract contract StewardSignatures is EIP712, Nonces {
    string private constant PROTOCOL_TYPE = "Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,"
        "bool mlAllowed,bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion,"
        "uint32 season)";
    string private constant RECIPIENT_TYPE = "Recipient(address account,uint32 ppm)";

    bytes32 internal constant PROTOCOL_TYPEHASH = keccak256(bytes(PROTOCOL_TYPE));
    bytes32 internal constant RECIPIENT_TYPEHASH = keccak256(bytes(RECIPIENT_TYPE));
    bytes32 internal constant REGISTER_HERITAGE_TYPEHASH = keccak256(
        abi.encodePacked(
            "RegisterHeritageWork(uint256 communityId,bytes contentCid,bytes manifestCid,Protocol protocol,"
            "Recipient[] split,bytes32 salt,uint256 nonce,uint256 deadline)",
            PROTOCOL_TYPE,
            RECIPIENT_TYPE
        )
    );
    bytes32 internal constant APPROVE_DERIVATIVE_TYPEHASH =
        keccak256("ApproveDerivative(uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)");
    bytes32 internal constant REJECT_DERIVATIVE_TYPEHASH =
        keccak256("RejectDerivative(uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)");
    bytes32 internal constant SET_PROTOCOL_TYPEHASH = keccak256(
        abi.encodePacked(
            "SetProtocol(uint256 workId,uint256 communityId,Protocol protocol,uint256 nonce,uint256 deadline)",
            PROTOCOL_TYPE
        )
    );
    bytes32 internal constant SET_SPLIT_TYPEHASH = keccak256(
        abi.encodePacked(
            "SetSplit(uint256 workId,uint256 communityId,Recipient[] split,uint256 nonce,uint256 deadline)",
            RECIPIENT_TYPE
        )
    );

    /// @notice `steward` burned nonce `nonce`: a signature over it can never be used.
    event NonceCancelled(address indexed steward, uint256 nonce);

    /// @notice The signature's deadline has passed: ask the steward to sign again.
    error RegistrySignatureExpired(uint256 deadline);
    /// @notice The signature is not `signer`'s over this action and its current nonce.
    error RegistryInvalidSignature(address signer);

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @notice Consume the caller's current nonce, so that any signature they gave over it (and
    ///         not yet submitted) becomes void.
    /// @return nonce the nonce cancelled
    function cancelNonce() external returns (uint256 nonce) {
        nonce = _useNonce(msg.sender);
        emit NonceCancelled(msg.sender, nonce);
    }

    /// @notice The EIP-712 digest a steward signs for a heritage registration.
    function registerHeritageDigest(HeritageParams calldata p, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_hashRegisterHeritage(p, nonce, deadline));
    }

    /// @notice The EIP-712 digest a steward signs to approve a derivative.
    function approveDerivativeDigest(uint256 workId, uint256 communityId, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_hashConsent(workId, communityId, false, nonce, deadline));
    }

    function _useStewardSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        internal
    {
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert RegistryInvalidSignature(signer);
        }
        _useNonce(signer);
    }

    function _hashRegisterHeritage(HeritageParams calldata p, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                REGISTER_HERITAGE_TYPEHASH,
                p.communityId,
                keccak256(p.contentCid),
                keccak256(p.manifestCid),
                _hashProtocol(p.protocol),
                _hashSplit(p.split),
                p.salt,
                nonce,
                deadline
            )
        );
    }

    function _hashConsent(uint256 workId, uint256 communityId, bool reject, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        bytes32 typehash = reject ? REJECT_DERIVATIVE_TYPEHASH : APPROVE_DERIVATIVE_TYPEHASH;
        return keccak256(abi.encode(typehash, workId, communityId, nonce, deadline));
    }

    function _hashSetProtocol(
        uint256 workId,
        uint256 communityId,
        Protocol calldata protocol,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(SET_PROTOCOL_TYPEHASH, workId, communityId, _hashProtocol(protocol), nonce, deadline)
        );
    }

    function _hashSetSplit(
        uint256 workId,
        uint256 communityId,
        Recipient[] calldata split,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(SET_SPLIT_TYPEHASH, workId, communityId, _hashSplit(split), nonce, deadline));
    }

    function _hashProtocol(Protocol calldata p) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PROTOCOL_TYPEHASH,
                p.derivativesAllowed,
                p.consentRequired,
                p.commercialAllowed,
                p.mlAllowed,
                p.attributionRequired,
                p.restricted,
                p.floorPpm,
                p.labels,
                p.labelsVersion,
                p.season
            )
        );
    }

    function _hashSplit(Recipient[] calldata split) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](split.length);
        for (uint256 i; i < split.length; ++i) {
            hashes[i] = keccak256(abi.encode(RECIPIENT_TYPEHASH, split[i].account, split[i].ppm));
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
