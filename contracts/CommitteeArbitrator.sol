// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IArbitrator} from "./interfaces/IArbitrator.sol";
import {IArbitrable, IPartyAware} from "./interfaces/IArbitrable.sol";

/// @title CommitteeArbitrator: the default neutral arbitrator of heritage disputes
/// @notice A fixed committee (set at deployment) decides each case by a majority of its
///         *eligible* members: a member who is a party to the case (as the arbitrable reports it:
///         a steward of the claimant community, the owner or registrant of the disputed work) can
///         neither vote nor count. Eligibility and votes are re-read at every vote, so a member who
///         becomes a party after voting no longer counts. Free: `arbitrationCost` is 0.
contract CommitteeArbitrator is IArbitrator {
    /// @notice Committee size limit (bounds the gas of a vote).
    uint256 public constant MAX_MEMBERS = 16;

    struct Case {
        IArbitrable arbitrable;
        uint32 choices;
        uint32 ruling;
        bool ruled;
    }

    address[] private _members;
    mapping(address account => bool) private _isMember;
    Case[] private _cases;
    mapping(uint256 caseId => mapping(address member => uint256 choice)) private _votes;

    /// @notice `member` voted `choice` on case `disputeId`.
    event VoteCast(uint256 indexed disputeId, address indexed member, uint256 choice);
    /// @notice The committee ruled `ruling` on case `disputeId` (the arbitrable was told).
    event RulingGiven(uint256 indexed disputeId, uint256 ruling, uint256 votes, uint256 eligible);

    /// @notice 1..MAX_MEMBERS distinct non-zero members.
    error ArbitratorInvalidMembers();
    /// @notice Only committee members vote.
    error ArbitratorNotMember(address account);
    /// @notice A party to the case cannot judge it.
    error ArbitratorMemberIsParty(uint256 disputeId, address member);
    /// @notice No such case.
    error ArbitratorUnknownCase(uint256 disputeId);
    /// @notice The case is already ruled.
    error ArbitratorAlreadyRuled(uint256 disputeId);
    /// @notice The member already voted on this case.
    error ArbitratorAlreadyVoted(uint256 disputeId, address member);
    /// @notice Choice outside 1..choices.
    error ArbitratorInvalidChoice(uint256 disputeId, uint256 choice);
    /// @notice The committee charges nothing; send no ETH. Choices must be 1..2^32-1.
    error ArbitratorInvalidCase(uint256 value, uint256 choices);

    constructor(address[] memory members_) {
        if (members_.length == 0 || members_.length > MAX_MEMBERS) revert ArbitratorInvalidMembers();
        for (uint256 i; i < members_.length; ++i) {
            address m = members_[i];
            if (m == address(0) || _isMember[m]) revert ArbitratorInvalidMembers();
            _isMember[m] = true;
            _members.push(m);
        }
    }

    /// @inheritdoc IArbitrator
    function createDispute(uint256 choices, bytes calldata) external payable returns (uint256 disputeId) {
        if (msg.value != 0 || choices == 0 || choices > type(uint32).max) {
            revert ArbitratorInvalidCase(msg.value, choices);
        }
        disputeId = _cases.length;
        // Cast is safe: checked above.
        _cases.push(Case(IArbitrable(msg.sender), uint32(choices), 0, false));
        emit DisputeCreation(disputeId, IArbitrable(msg.sender));
    }

    /// @inheritdoc IArbitrator
    function arbitrationCost(bytes calldata) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IArbitrator
    function currentRuling(uint256 disputeId) external view returns (uint256) {
        return _case(disputeId).ruling;
    }

    /// @notice Vote `choice` on case `disputeId` (members who are not parties). When a choice has
    ///         the votes of more than half of the eligible members, it is ruled and the arbitrable told.
    function vote(uint256 disputeId, uint256 choice) external {
        Case storage c = _case(disputeId);
        if (!_isMember[msg.sender]) revert ArbitratorNotMember(msg.sender);
        if (c.ruled) revert ArbitratorAlreadyRuled(disputeId);
        if (choice == 0 || choice > c.choices) revert ArbitratorInvalidChoice(disputeId, choice);
        IPartyAware parties = IPartyAware(address(c.arbitrable));
        if (parties.isPartyTo(disputeId, msg.sender)) revert ArbitratorMemberIsParty(disputeId, msg.sender);
        if (_votes[disputeId][msg.sender] != 0) revert ArbitratorAlreadyVoted(disputeId, msg.sender);
        _votes[disputeId][msg.sender] = choice;
        emit VoteCast(disputeId, msg.sender, choice);

        uint256 eligible = 0;
        uint256 votes = 0;
        uint256 n = _members.length;
        for (uint256 i; i < n; ++i) {
            address m = _members[i];
            if (parties.isPartyTo(disputeId, m)) continue;
            ++eligible;
            if (_votes[disputeId][m] == choice) ++votes;
        }
        if (votes * 2 > eligible) {
            c.ruled = true;
            // Cast is safe: choice <= c.choices < 2^32.
            c.ruling = uint32(choice);
            emit RulingGiven(disputeId, choice, votes, eligible);
            c.arbitrable.rule(disputeId, choice);
        }
    }

    /// @notice The committee's members.
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @notice A case: its arbitrable, number of choices, ruling and whether it is ruled.
    function caseOf(uint256 disputeId)
        external
        view
        returns (address arbitrable, uint256 choices, uint256 ruling, bool ruled)
    {
        Case storage c = _case(disputeId);
        return (address(c.arbitrable), c.choices, c.ruling, c.ruled);
    }

    /// @notice The choice `member` voted on case `disputeId` (0: none).
    function voteOf(uint256 disputeId, address member) external view returns (uint256) {
        return _votes[disputeId][member];
    }

    function _case(uint256 disputeId) private view returns (Case storage) {
        if (disputeId >= _cases.length) revert ArbitratorUnknownCase(disputeId);
        return _cases[disputeId];
    }
}
