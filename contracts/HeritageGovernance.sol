// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RegistryCore} from "./RegistryCore.sol";
import {ProtocolRules} from "./ProtocolRules.sol";
import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {PPM, MAX_RESERVED_KEYS, WorkKind, WorkStatus, Protocol, Recipient} from "./libraries/HeritageTypes.sol";

/// @title HeritageGovernance: the stewards' functions of the HeritageRegistry
/// @notice Restricted works, protocol and split changes (k-of-n for money and loosening, one
///         steward for tightening), consent and refusal of derivatives, each with its signed
///         form. Called only through the registry, which delegates every selector it does not
///         have to this contract: the registry's address is the one to call and to sign for
///         (EIP-712 domain HeritageRegistry v1, verifying contract = the registry).
/// @dev Deploy with the same router, rules and royalty as the registry. A direct call (not
///      through the registry) is refused, so this contract's own storage stays empty.
contract HeritageGovernance is RegistryCore {
    address private immutable _self;

    /// @notice Called directly rather than through the HeritageRegistry.
    error RegistryNotDelegated();

    modifier delegated() {
        if (address(this) == _self) revert RegistryNotDelegated();
        _;
    }

    /// @param router_ the registry's RoyaltyRouter
    /// @param rules_ the registry's ProtocolRules
    /// @param royaltyBps_ the registry's royalty
    constructor(IRoyaltyRouter router_, ProtocolRules rules_, uint96 royaltyBps_)
        RegistryCore(router_, rules_, royaltyBps_)
    {
        _self = address(this);
    }

    /// @notice Register a secret/sacred work as a salted hash commitment only. No content CID
    ///         is published, the work is never paid and no derivative of it can exist.
    /// @param commitment keccak256 of (salt ‖ content CID), kept by the community
    /// @param manifestCid an optional public manifest (empty for none)
    /// @param labels Local Contexts label bitmap; `labelsVersion` the table version
    /// @param reservedContentKeys up to MAX_RESERVED_KEYS keccak256 hashes of binary CIDs (the
    ///        recording's files) that may never register publicly
    function registerRestrictedWork(
        uint256 communityId,
        bytes32 commitment,
        bytes calldata manifestCid,
        uint64 labels,
        uint16 labelsVersion,
        bytes32[] calldata reservedContentKeys
    ) external delegated returns (uint256 workId) {
        _requireSteward(communityId, msg.sender);
        uint256 n = reservedContentKeys.length;
        if (n > MAX_RESERVED_KEYS) revert RegistryTooManyReservedKeys(n, MAX_RESERVED_KEYS);
        workId = _newWork(commitment, 0, manifestCid, WorkKind.Heritage, communityId, msg.sender);
        for (uint256 i; i < n; ++i) {
            bytes32 key = reservedContentKeys[i];
            uint256 existing = _workByContent[key];
            if (existing != 0) revert RegistryContentAlreadyRegistered(key, existing);
            _workByContent[key] = workId;
        }
        Protocol memory protocol = Protocol(false, true, false, false, true, true, 0, labels, labelsVersion, 0);
        _protocols[workId] = protocol;
        _mint(_treasuryOf(communityId), workId);
        emit HeritageWorkRegistered(workId, communityId, msg.sender, "", commitment, manifestCid);
        if (n != 0) emit ContentKeysReserved(workId, reservedContentKeys);
        emit ProtocolSet(workId, protocol);
        _router.configureHeritage(workId, new Recipient[](0), true);
    }

    /// @notice Change a heritage work's protocol. A change that only tightens it
    ///         (`Labels.isTightening`) applies at once on one steward's call; any other change
    ///         records this steward's approval and applies at the community's threshold. The
    ///         restricted flag cannot change. New derivatives are checked against the new
    ///         protocol; existing ones stay.
    /// @return applied whether the protocol is now `protocol`
    function setProtocol(uint256 workId, Protocol calldata protocol) external delegated returns (bool applied) {
        return _setProtocol(workId, protocol, msg.sender);
    }

    /// @notice `setProtocol` on a steward's EIP-712 signature (`SetProtocol`).
    function setProtocolBySig(
        uint256 workId,
        Protocol calldata protocol,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external delegated returns (bool applied) {
        uint256 communityId = _heritage(workId).communityId;
        _useStewardSignature(
            steward, _hashSetProtocol(workId, communityId, protocol, nonces(steward), deadline), deadline, signature
        );
        return _setProtocol(workId, protocol, steward);
    }

    /// @notice Replace a work's split. A heritage work's split changes when k of its community's
    ///         stewards have approved the identical split (each call is one approval); a
    ///         derivative's changes at once on its token owner's call.
    /// @return applied whether the split is now `split`
    function setSplit(uint256 workId, Recipient[] calldata split) external delegated returns (bool applied) {
        return _setSplit(workId, split, msg.sender);
    }

    /// @notice A steward's approval of a heritage split on their EIP-712 signature (`SetSplit`).
    function setSplitBySig(
        uint256 workId,
        Recipient[] calldata split,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external delegated returns (bool applied) {
        uint256 communityId = _heritage(workId).communityId;
        _useStewardSignature(
            steward, _hashSetSplit(workId, communityId, split, nonces(steward), deadline), deadline, signature
        );
        return _setSplit(workId, split, steward);
    }

    /// @notice Approve a pending derivative for `communityId`; consent is given when the
    ///         community's threshold of stewards has approved.
    function approveDerivative(uint256 workId, uint256 communityId) external delegated returns (bool consented) {
        return _approveDerivative(workId, communityId, msg.sender);
    }

    /// @notice `approveDerivative` on a steward's EIP-712 signature (`ApproveDerivative`).
    function approveDerivativeBySig(
        uint256 workId,
        uint256 communityId,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external delegated returns (bool consented) {
        _useStewardSignature(
            steward, _hashConsent(workId, communityId, false, nonces(steward), deadline), deadline, signature
        );
        return _approveDerivative(workId, communityId, steward);
    }

    /// @notice Vote to refuse a pending derivative; refused when the threshold is reached.
    function rejectDerivative(uint256 workId, uint256 communityId) external delegated returns (bool rejected) {
        return _rejectDerivative(workId, communityId, msg.sender);
    }

    /// @notice `rejectDerivative` on a steward's EIP-712 signature (`RejectDerivative`).
    function rejectDerivativeBySig(
        uint256 workId,
        uint256 communityId,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external delegated returns (bool rejected) {
        _useStewardSignature(
            steward, _hashConsent(workId, communityId, true, nonces(steward), deadline), deadline, signature
        );
        return _rejectDerivative(workId, communityId, steward);
    }

    function _setProtocol(uint256 workId, Protocol calldata protocol, address steward) private returns (bool) {
        uint256 communityId = _heritage(workId).communityId;
        _requireSteward(communityId, steward);
        Protocol memory old = _protocols[workId];
        if (protocol.restricted != old.restricted) revert RegistryRestrictedMismatch(workId);
        _checkProtocol(protocol);
        if (!_rules.isTightening(old, protocol)) {
            bytes32 subject = keccak256(abi.encode("SET_PROTOCOL", workId, _protocolNonce[workId], protocol));
            if (!_approve(communityId, subject, steward)) return false;
        }
        ++_protocolNonce[workId];
        _protocols[workId] = protocol;
        emit ProtocolSet(workId, protocol);
        return true;
    }

    function _setSplit(uint256 workId, Recipient[] calldata split, address account) private returns (bool) {
        Work storage w = _work(workId);
        if (w.kind == WorkKind.Heritage) {
            uint256 communityId = w.communityId;
            if (!isSteward(communityId, account)) revert RegistryNotSplitAuthority(workId, account);
            if (w.contentCodec == 0) revert RegistryRestrictedMismatch(workId);
            bytes32 subject = keccak256(abi.encode("SET_SPLIT", workId, _splitNonce[workId], split));
            if (!_approve(communityId, subject, account)) return false;
            ++_splitNonce[workId];
        } else if (_ownerOf(workId) != account) {
            revert RegistryNotSplitAuthority(workId, account);
        }
        _router.setSplit(workId, split);
        return true;
    }

    function _requireConsentExpected(uint256 workId, uint256 communityId) private view {
        _work(workId);
        if (!_consentNeeded[workId][communityId] || _router.statusOf(workId) != WorkStatus.Pending) {
            revert RegistryConsentNotExpected(workId, communityId);
        }
    }

    function _approveDerivative(uint256 workId, uint256 communityId, address steward) private returns (bool consented) {
        _requireConsentExpected(workId, communityId);
        consented = _approve(communityId, keccak256(abi.encode("CONSENT", workId)), steward);
        if (consented) {
            _consentNeeded[workId][communityId] = false;
            uint256 remaining = --_works[workId].pendingConsents;
            emit DerivativeConsented(workId, communityId, remaining);
            if (remaining == 0) _router.setStatus(workId, WorkStatus.Active);
        }
    }

    function _rejectDerivative(uint256 workId, uint256 communityId, address steward) private returns (bool rejected) {
        _requireConsentExpected(workId, communityId);
        rejected = _approve(communityId, keccak256(abi.encode("REJECT", workId)), steward);
        if (rejected) {
            _consentNeeded[workId][communityId] = false;
            emit DerivativeRejected(workId, communityId);
            _router.setStatus(workId, WorkStatus.Rejected);
        }
    }
}
