// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Shared words of the Heritage Ledger contracts
/// @notice Enums, structs and limits used by both the registry and the royalty router.

/// @dev Parts per million: every share is an integer in [0, PPM].
uint32 constant PPM = 1_000_000;
/// @dev A derivative names at most this many parents.
uint256 constant MAX_PARENTS = 8;
/// @dev A split has at most this many recipients.
uint256 constant MAX_RECIPIENTS = 32;
/// @dev Longest chain from a work to a heritage root (a heritage work has depth 0).
uint256 constant MAX_LINEAGE_DEPTH = 8;
/// @dev Node visits in one payment's cascade (the work itself included); bounds gas per payment
///      on DAGs whose paths share ancestors.
uint256 constant MAX_ROUTE_NODES = 64;
/// @dev Distinct heritage roots a derivative may descend from.
uint256 constant MAX_ROOTS = 16;
/// @dev Stewards per community.
uint256 constant MAX_STEWARDS = 16;
/// @dev Distinct tokens a disputed work may hold in escrow at once.
uint256 constant MAX_ESCROW_TOKENS = 8;
/// @dev A registration commitment counts for this long after the block it was made in.
uint256 constant MAX_COMMITMENT_AGE = 1 days;
/// @dev A heritage registration waiting for k approvals holds its content for this long after
///      its first approval; nobody else can register those bytes meanwhile.
uint256 constant MAX_CLAIM_AGE = 7 days;
/// @dev Content keys (keccak256 of a binary CID) one restricted work may reserve.
uint256 constant MAX_RESERVED_KEYS = 8;

enum WorkKind {
    None,
    Heritage,
    Derivative
}

/// @dev Lifecycle of a work in the router: only Active works can be paid or used as parents.
enum WorkStatus {
    None,
    Pending, // consent required by a root community and not yet given
    Active,
    Restricted, // secret/sacred: a salted hash commitment only; never paid, never a parent
    Rejected // a consenting community refused it
}

/// @notice A community's cultural protocol for one heritage work. Fits in one storage slot.
/// @dev `labels` is a bitmap of Local Contexts label types, bit i = label id i in
///      contracts/README.md's table, read under `labelsVersion` of that table. `season` is the
///      UTC window in which derivatives (and machine-learning use) may register:
///      startMonth<<24 | startDay<<16 | endMonth<<8 | endDay, inclusive, may wrap the year end;
///      0 = all year.
struct Protocol {
    bool derivativesAllowed;
    bool consentRequired;
    bool commercialAllowed;
    bool mlAllowed;
    bool attributionRequired;
    bool restricted;
    uint32 floorPpm;
    uint64 labels;
    uint16 labelsVersion;
    uint32 season;
}

/// @notice Who is owed what share of a work's own income.
struct Recipient {
    address account;
    uint32 ppm;
}

/// @notice Arguments of a heritage work registration.
struct HeritageParams {
    uint256 communityId;
    bytes contentCid;
    bytes manifestCid;
    Protocol protocol;
    Recipient[] split;
    bytes32 salt; // of the registrant's commitment (`commitRegistration`)
}

/// @notice Arguments of a derivative registration.
/// @dev `parentPpms[i]` is the share of every payment to the derivative routed to `parents[i]`.
///      `modelCid` is empty for a person-made derivative.
struct DerivativeParams {
    bytes contentCid;
    bytes manifestCid;
    uint256[] parents;
    uint32[] parentPpms;
    Recipient[] split;
    bytes modelCid;
    bytes32 paramsHash;
    bool commercial;
    bytes32 salt; // of the registrant's commitment (`commitRegistration`)
}
