// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IArbitrator} from "./interfaces/IArbitrator.sol";
import {IArbitrable, IPartyAware} from "./interfaces/IArbitrable.sol";
import {IDisputeHooks} from "./interfaces/IDisputeHooks.sol";
import {IHeritageRegistry} from "./interfaces/IHeritageRegistry.sol";
import {PPM, WorkStatus} from "./libraries/HeritageTypes.sol";

/// @notice The router functions HeritageDisputes drives.
interface IRouterEscrow {
    function holdEscrow(uint256 workId, uint256 disputeId) external;
    function endHold(uint256 workId, address beneficiary, uint256 awardPpm) external;
    function statusOf(uint256 workId) external view returns (WorkStatus);
    function registrantOf(uint256 workId) external view returns (address);
}

/// @title HeritageDisputes: bonded misappropriation claims decided by a neutral arbitrator
/// @notice A steward of a community raises a claim with a bond of CLAIM_BOND (+ the arbitrator's
///         cost) and an evidence CID, of one of three kinds: Lineage (a derivative whose lineage
///         holds the community's heritage), Omission (a derivative that leaves the community's
///         heritage work out of its lineage; the claimant states the work and a share) or Contested
///         (a heritage work registered by another community; the claimant states a share). While
///         open, the disputed work's own share, and that of any descendant its owner or registrant
///         registers meanwhile, is escrowed by the router. The arbitrator rules (1 upheld, 2
///         dismissed, 0 refused = dismissed) before DISPUTE_PERIOD ends; after it, `expire`
///         dismisses. The claimant community's k stewards may withdraw the claim (on chain or by
///         EIP-712 signatures). Awards are pro rata (contracts/README.md, "Disputes").
contract HeritageDisputes is IArbitrable, IPartyAware, IDisputeHooks, EIP712, Nonces, ReentrancyGuardTransient {
    /// @notice The claimant's bond, on top of the arbitrator's cost.
    uint256 public constant CLAIM_BOND = 0.05 ether;
    /// @notice How long the arbitrator has to rule; then anyone may `expire` the claim.
    uint256 public constant DISPUTE_PERIOD = 30 days;
    /// @notice Descendants of the disputed work a party may register (and have held) while open.
    uint256 public constant MAX_HELD_DESCENDANTS = 8;
    /// @notice Rulings: 1 upholds the claim, 2 dismisses it (0, a refusal, dismisses too).
    uint256 public constant RULING_UPHELD = 1;
    uint256 public constant RULING_DISMISSED = 2;
    /// @notice EIP-712 type of a steward's approval to withdraw a claim.
    bytes32 public constant WITHDRAW_CLAIM_TYPEHASH = keccak256(
        "WithdrawClaim(uint256 disputeId,uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)"
    );

    enum Kind {
        None,
        Lineage,
        Omission,
        Contested
    }

    enum Status {
        None,
        Open,
        Upheld,
        Dismissed,
        Expired,
        Withdrawn
    }

    struct Dispute {
        uint256 workId;
        uint256 communityId;
        uint256 heritageWorkId; // Omission: the omitted heritage work; else 0
        uint256 arbitratorId;
        address claimant; // the steward who raised it and posted the bond
        address owner; // the disputed work's owner when the claim was raised
        uint64 deadline;
        uint32 claimedPpm; // Omission and Contested: the share claimed
        Kind kind;
        Status status;
        uint256 bond;
    }

    IHeritageRegistry private immutable _registry;
    IRouterEscrow private immutable _router;
    IArbitrator private immutable _arbitrator;

    Dispute[] private _disputes; // index 0 unused: dispute ids run from 1
    mapping(uint256 disputeId => uint256[]) private _descendants;
    mapping(uint256 arbitratorId => uint256 disputeId) private _byArbitratorId;
    mapping(uint256 disputeId => mapping(uint256 epoch => mapping(address steward => bool))) private _approved;
    mapping(uint256 disputeId => mapping(uint256 epoch => uint256)) private _approvals;
    mapping(address account => uint256) private _bonds;

    /// @notice A claim was raised and the disputed work's own share is escrowed.
    event ClaimRaised(
        uint256 indexed disputeId,
        uint256 indexed workId,
        uint256 indexed communityId,
        Kind kind,
        uint256 heritageWorkId,
        uint256 claimedPpm,
        address claimant,
        uint256 arbitratorId,
        bytes evidenceCid
    );
    /// @notice A descendant registered by a party while the claim is open is escrowed with it.
    event DescendantHeld(uint256 indexed disputeId, uint256 indexed workId);
    /// @notice A claim ended (Upheld, Dismissed, Expired or Withdrawn) with the award given.
    event ClaimClosed(uint256 indexed disputeId, uint256 indexed workId, Status status, uint256 awardPpm);
    /// @notice A claimant steward approved withdrawing the claim (count under the steward epoch).
    event WithdrawalApproved(uint256 indexed disputeId, address indexed steward, uint256 approvals);
    /// @notice `account` may withdraw `amount` more of bonds.
    event BondCredited(uint256 indexed disputeId, address indexed account, uint256 amount);
    /// @notice `account` withdrew its bonds to `to`.
    event BondWithdrawn(address indexed account, address to, uint256 amount);
    /// @notice `steward` cancelled its signature nonce `nonce`.
    event NonceCancelled(address indexed steward, uint256 nonce);

    /// @notice The caller (or signer) is not a steward of the community.
    error DisputesNotSteward(uint256 communityId, address account);
    /// @notice No such work.
    error DisputesUnknownWork(uint256 workId);
    /// @notice No such dispute.
    error DisputesUnknownDispute(uint256 disputeId);
    /// @notice The claim's kind does not fit the work (see the contract's notice).
    error DisputesInvalidClaim(uint256 workId, uint256 communityId, uint256 heritageWorkId, uint256 claimedPpm);
    /// @notice A lineage claim needs the community's heritage in the work's lineage.
    error DisputesNotInLineage(uint256 workId, uint256 communityId);
    /// @notice ETH sent must be CLAIM_BOND plus the arbitrator's cost.
    error DisputesWrongBond(uint256 sent, uint256 expected);
    /// @notice The dispute is not open.
    error DisputesNotOpen(uint256 disputeId, Status status);
    /// @notice Only the arbitrator rules; only the router reports descendants.
    error DisputesUnauthorised(address caller);
    /// @notice The ruling is not 0, 1 or 2.
    error DisputesInvalidRuling(uint256 ruling);
    /// @notice The arbitrator ruled after the dispute period; call `expire`.
    error DisputesPeriodOver(uint256 disputeId, uint256 deadline);
    /// @notice The dispute period has not ended.
    error DisputesPeriodNotOver(uint256 disputeId, uint256 deadline);
    /// @notice A party registered more than MAX_HELD_DESCENDANTS descendants while the claim is open.
    error DisputesTooManyHeldDescendants(uint256 disputeId, uint256 max);
    /// @notice The steward already approved this withdrawal under the current steward set.
    error DisputesAlreadyApproved(uint256 disputeId, address steward);
    /// @notice The signature is invalid, not the steward's, or expired.
    error DisputesInvalidSignature(address steward, uint256 deadline);
    /// @notice Nothing to withdraw.
    error DisputesNoBond(address account);
    /// @notice Sending ETH to `to` failed; the bond is kept.
    error DisputesTransferFailed(address to, uint256 amount);

    constructor(IHeritageRegistry registry_, IRouterEscrow router_, IArbitrator arbitrator_)
        EIP712("HeritageDisputes", "1")
    {
        _registry = registry_;
        _router = router_;
        _arbitrator = arbitrator_;
        _disputes.push();
    }

    // ------------------------------------------------------------------ claims

    /// @notice Raise a claim for `communityId` (caller: one of its stewards) against `workId`.
    ///         Lineage: heritageWorkId = 0, claimedPpm = 0. Omission: heritageWorkId = the
    ///         community's heritage work left out, claimedPpm its claimed share (1..PPM).
    ///         Contested (`workId` a heritage work of another community): heritageWorkId = 0,
    ///         claimedPpm the claimed share. `msg.value` = CLAIM_BOND + the arbitrator's cost.
    function raiseClaim(
        uint256 workId,
        uint256 communityId,
        uint256 heritageWorkId,
        uint32 claimedPpm,
        bytes calldata evidenceCid
    ) external payable nonReentrant returns (uint256 disputeId) {
        if (!_registry.isSteward(communityId, msg.sender)) revert DisputesNotSteward(communityId, msg.sender);
        if (workId == 0 || workId > _registry.workCount() || _router.statusOf(workId) == WorkStatus.None) {
            revert DisputesUnknownWork(workId);
        }
        Kind kind = _kindOf(workId, communityId, heritageWorkId, claimedPpm);
        bytes memory extra = "";
        uint256 cost = _arbitrator.arbitrationCost(extra);
        if (msg.value != CLAIM_BOND + cost) revert DisputesWrongBond(msg.value, CLAIM_BOND + cost);

        disputeId = _disputes.length;
        Dispute storage d = _disputes.push();
        (d.workId, d.communityId, d.heritageWorkId, d.claimedPpm) = (workId, communityId, heritageWorkId, claimedPpm);
        (d.claimant, d.owner, d.kind, d.status, d.bond) =
            (msg.sender, _registry.ownerOf(workId), kind, Status.Open, CLAIM_BOND);
        // Cast is safe: timestamps fit 64 bits for billions of years.
        d.deadline = uint64(block.timestamp + DISPUTE_PERIOD);
        _router.holdEscrow(workId, disputeId);
        uint256 arbitratorId = _arbitrator.createDispute{value: cost}(2, extra);
        d.arbitratorId = arbitratorId;
        _byArbitratorId[arbitratorId] = disputeId;
        emit ClaimRaised(
            disputeId, workId, communityId, kind, heritageWorkId, claimedPpm, msg.sender, arbitratorId, evidenceCid
        );
    }

    /// @inheritdoc IArbitrable
    function rule(uint256 arbitratorId, uint256 ruling) external nonReentrant {
        if (msg.sender != address(_arbitrator)) revert DisputesUnauthorised(msg.sender);
        if (ruling > RULING_DISMISSED) revert DisputesInvalidRuling(ruling);
        uint256 disputeId = _byArbitratorId[arbitratorId];
        Dispute storage d = _open(disputeId);
        if (d.arbitratorId != arbitratorId) revert DisputesUnknownDispute(disputeId);
        if (block.timestamp > d.deadline) revert DisputesPeriodOver(disputeId, d.deadline);
        emit Ruling(_arbitrator, arbitratorId, ruling);
        _close(disputeId, ruling == RULING_UPHELD ? Status.Upheld : Status.Dismissed);
    }

    /// @notice After DISPUTE_PERIOD without a ruling, dismiss the claim (escrow to the work's
    ///         split) and return the bond to the claimant. Anyone may call it.
    function expire(uint256 disputeId) external nonReentrant {
        Dispute storage d = _open(disputeId);
        if (block.timestamp <= d.deadline) revert DisputesPeriodNotOver(disputeId, d.deadline);
        _close(disputeId, Status.Expired);
    }

    /// @notice Approve withdrawing the claim, as a steward of the claimant community. At the
    ///         community's threshold (under its current steward epoch) the claim is withdrawn.
    function approveWithdrawal(uint256 disputeId) external nonReentrant returns (bool withdrawn) {
        return _approveWithdrawal(disputeId, msg.sender);
    }

    /// @notice `approveWithdrawal` on a steward's EIP-712 signature of `WithdrawClaim` (domain
    ///         HeritageDisputes v1), which binds the dispute, its work and its community.
    function approveWithdrawalBySig(uint256 disputeId, address steward, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
        returns (bool withdrawn)
    {
        _open(disputeId);
        bytes32 digest = withdrawalDigest(disputeId, steward, deadline);
        if (block.timestamp > deadline || !SignatureChecker.isValidSignatureNow(steward, digest, signature)) {
            revert DisputesInvalidSignature(steward, deadline);
        }
        _useNonce(steward);
        return _approveWithdrawal(disputeId, steward);
    }

    /// @notice Consume the caller's current signature nonce, invalidating any signature made with it.
    function cancelNonce() external {
        uint256 nonce = _useNonce(msg.sender);
        emit NonceCancelled(msg.sender, nonce);
    }

    /// @notice Withdraw the caller's bonds (returned or won) to `to`.
    function withdrawBond(address to) external nonReentrant returns (uint256 amount) {
        amount = _bonds[msg.sender];
        if (amount == 0) revert DisputesNoBond(msg.sender);
        if (to == address(0)) revert DisputesTransferFailed(to, amount);
        _bonds[msg.sender] = 0;
        emit BondWithdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert DisputesTransferFailed(to, amount);
    }

    // ------------------------------------------------------------------ router hook

    /// @inheritdoc IDisputeHooks
    /// @dev A party is the disputed work's owner at the claim, its current owner or its registrant.
    function descendantRegistered(uint256 disputeId, uint256 workId, address registrant) external returns (bool) {
        if (msg.sender != address(_router)) revert DisputesUnauthorised(msg.sender);
        Dispute storage d = _disputes[disputeId];
        if (d.status != Status.Open) return false;
        if (
            registrant != d.owner && registrant != _registry.ownerOf(d.workId)
                && registrant != _router.registrantOf(d.workId)
        ) return false;
        uint256[] storage held = _descendants[disputeId];
        if (held.length >= MAX_HELD_DESCENDANTS) revert DisputesTooManyHeldDescendants(disputeId, MAX_HELD_DESCENDANTS);
        held.push(workId);
        emit DescendantHeld(disputeId, workId);
        return true;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPartyAware
    /// @dev Parties: the claimant community's stewards, the disputed work's owner (at the claim and
    ///      now) and registrant, and for a contested heritage work the stewards of its community.
    function isPartyTo(uint256 arbitratorId, address account) external view returns (bool) {
        uint256 disputeId = _byArbitratorId[arbitratorId];
        Dispute storage d = _disputes[disputeId];
        if (disputeId == 0 || d.arbitratorId != arbitratorId) return false;
        if (account == d.owner || account == d.claimant || account == _registry.ownerOf(d.workId)) return true;
        if (account == _router.registrantOf(d.workId)) return true;
        if (_registry.isSteward(d.communityId, account)) return true;
        uint256 home = _registry.heritageCommunityOf(d.workId);
        return home != 0 && _registry.isSteward(home, account);
    }

    /// @notice A dispute's record.
    function disputeOf(uint256 disputeId) external view returns (Dispute memory) {
        if (disputeId == 0 || disputeId >= _disputes.length) revert DisputesUnknownDispute(disputeId);
        return _disputes[disputeId];
    }

    /// @notice Number of disputes raised (ids run 1..disputeCount()).
    function disputeCount() external view returns (uint256) {
        return _disputes.length - 1;
    }

    /// @notice Descendants escrowed with dispute `disputeId`.
    function heldDescendantsOf(uint256 disputeId) external view returns (uint256[] memory) {
        return _descendants[disputeId];
    }

    /// @notice The claimant's share of the award (ppm of the escrow) if `disputeId` is upheld now.
    function awardPpmOf(uint256 disputeId) public view returns (uint256) {
        Dispute storage d = _disputes[disputeId];
        if (d.kind == Kind.Contested) return d.claimedPpm;
        (uint32[] memory roots, uint32[] memory ppms) = _registry.rootSharesOf(d.workId);
        uint256 share = d.kind == Kind.Omission ? d.claimedPpm : 0;
        uint256 total = share;
        for (uint256 i; i < roots.length; ++i) {
            total += ppms[i];
            if (d.kind == Kind.Lineage && _registry.heritageCommunityOf(roots[i]) == d.communityId) share += ppms[i];
        }
        return total == 0 ? 0 : share * PPM / total;
    }

    /// @notice Withdrawal approvals counted for `disputeId` under the community's current epoch.
    function withdrawalApprovalsOf(uint256 disputeId) external view returns (uint256) {
        Dispute storage d = _disputes[disputeId];
        return _approvals[disputeId][_registry.stewardEpochOf(d.communityId)];
    }

    /// @notice Bonds `account` may withdraw.
    function bondOf(address account) external view returns (uint256) {
        return _bonds[account];
    }

    /// @notice The EIP-712 digest `steward` signs to approve withdrawing `disputeId` (current nonce).
    function withdrawalDigest(uint256 disputeId, address steward, uint256 deadline) public view returns (bytes32) {
        Dispute storage d = _disputes[disputeId];
        return _hashTypedDataV4(
            keccak256(
                abi.encode(WITHDRAW_CLAIM_TYPEHASH, disputeId, d.workId, d.communityId, nonces(steward), deadline)
            )
        );
    }

    /// @notice The registry, router and arbitrator this contract uses.
    function wiring() external view returns (address registry, address router, address arbitrator) {
        return (address(_registry), address(_router), address(_arbitrator));
    }

    // ------------------------------------------------------------------ internals

    function _kindOf(uint256 workId, uint256 communityId, uint256 heritageWorkId, uint32 claimedPpm)
        private
        view
        returns (Kind)
    {
        uint256 home = _registry.heritageCommunityOf(workId);
        bool shareOk = claimedPpm != 0 && claimedPpm <= PPM;
        if (home != 0) {
            if (home == communityId || heritageWorkId != 0 || !shareOk) {
                revert DisputesInvalidClaim(workId, communityId, heritageWorkId, claimedPpm);
            }
            return Kind.Contested;
        }
        if (heritageWorkId == 0) {
            if (claimedPpm != 0) revert DisputesInvalidClaim(workId, communityId, heritageWorkId, claimedPpm);
            uint32[] memory roots = _registry.rootsOf(workId);
            for (uint256 i; i < roots.length; ++i) {
                if (_registry.heritageCommunityOf(roots[i]) == communityId) return Kind.Lineage;
            }
            revert DisputesNotInLineage(workId, communityId);
        }
        // The registry's views revert for unknown ids: check the range first, so that an unknown
        // heritage id is refused with this contract's own error.
        if (
            !shareOk || heritageWorkId > _registry.workCount()
                || _registry.heritageCommunityOf(heritageWorkId) != communityId
        ) {
            revert DisputesInvalidClaim(workId, communityId, heritageWorkId, claimedPpm);
        }
        uint32[] memory lineageRoots = _registry.rootsOf(workId);
        for (uint256 i; i < lineageRoots.length; ++i) {
            if (lineageRoots[i] == heritageWorkId) {
                revert DisputesInvalidClaim(workId, communityId, heritageWorkId, claimedPpm);
            }
        }
        return Kind.Omission;
    }

    function _open(uint256 disputeId) private view returns (Dispute storage d) {
        if (disputeId == 0 || disputeId >= _disputes.length) revert DisputesUnknownDispute(disputeId);
        d = _disputes[disputeId];
        if (d.status != Status.Open) revert DisputesNotOpen(disputeId, d.status);
    }

    function _approveWithdrawal(uint256 disputeId, address steward) private returns (bool withdrawn) {
        Dispute storage d = _open(disputeId);
        uint256 communityId = d.communityId;
        if (!_registry.isSteward(communityId, steward)) revert DisputesNotSteward(communityId, steward);
        uint256 epoch = _registry.stewardEpochOf(communityId);
        if (_approved[disputeId][epoch][steward]) revert DisputesAlreadyApproved(disputeId, steward);
        _approved[disputeId][epoch][steward] = true;
        uint256 count = ++_approvals[disputeId][epoch];
        emit WithdrawalApproved(disputeId, steward, count);
        withdrawn = count >= _registry.thresholdOf(communityId);
        if (withdrawn) _close(disputeId, Status.Withdrawn);
    }

    /// @dev Ends the holds (the work's and its held descendants') with the award, and credits the
    ///      bond: back to the claimant when upheld or expired, to the work's owner when dismissed
    ///      or withdrawn.
    function _close(uint256 disputeId, Status status) private {
        Dispute storage d = _disputes[disputeId];
        d.status = status;
        uint256 awardPpm = status == Status.Upheld ? awardPpmOf(disputeId) : 0;
        address treasury = awardPpm == 0 ? address(0) : _registry.treasuryOf(d.communityId);
        emit ClaimClosed(disputeId, d.workId, status, awardPpm);
        _router.endHold(d.workId, treasury, awardPpm);
        uint256[] storage held = _descendants[disputeId];
        for (uint256 i; i < held.length; ++i) {
            _router.endHold(held[i], treasury, awardPpm);
        }
        bool toClaimant = status == Status.Upheld || status == Status.Expired;
        address bondTo = toClaimant ? d.claimant : _registry.ownerOf(d.workId);
        _bonds[bondTo] += d.bond;
        emit BondCredited(disputeId, bondTo, d.bond);
    }
}
