// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {Protocol, Recipient} from "../../../contracts/libraries/HeritageTypes.sol";

/// @notice The registry views HeritageDisputes reads (V2-INTERFACE.md), with just enough state
///         to drive the router: communities, heritage works, derivatives with stated root shares.
contract MockRegistry {
    RoyaltyRouter public immutable router;
    uint256 public workCount;
    mapping(uint256 => address) public ownerOf;
    mapping(uint256 => uint256) public heritageCommunityOf;
    mapping(uint256 => mapping(address => bool)) public isSteward;
    mapping(uint256 => uint256) public thresholdOf;
    mapping(uint256 => address) public treasuryOf;
    mapping(uint256 => uint256) public stewardEpochOf;
    mapping(uint256 => uint32[]) private _roots;
    mapping(uint256 => uint32[]) private _rootPpms;

    constructor(RoyaltyRouter router_) {
        router = router_;
    }

    function addCommunity(uint256 id, address[] memory stewards, uint256 k, address treasury) external {
        for (uint256 i; i < stewards.length; ++i) {
            isSteward[id][stewards[i]] = true;
        }
        (thresholdOf[id], treasuryOf[id]) = (k, treasury);
    }

    function removeSteward(uint256 id, address steward) external {
        isSteward[id][steward] = false;
        ++stewardEpochOf[id];
    }

    function addHeritage(uint256 communityId, Recipient[] memory split) external returns (uint256 id) {
        id = ++workCount;
        ownerOf[id] = treasuryOf[communityId];
        heritageCommunityOf[id] = communityId;
        _roots[id].push(uint32(id));
        _rootPpms[id].push(1_000_000);
        router.configureHeritage(id, split, false);
    }

    /// @dev `roots`/`rootPpms`: the effective root shares the real registry would compute.
    function addDerivative(
        address registrant,
        uint256[] memory parents,
        uint32[] memory ppms,
        Recipient[] memory split,
        uint32[] memory roots,
        uint32[] memory rootPpms
    ) external returns (uint256 id) {
        id = ++workCount;
        ownerOf[id] = registrant;
        (_roots[id], _rootPpms[id]) = (roots, rootPpms);
        router.configureDerivative(id, registrant, parents, ppms, split, false);
    }

    function transfer(uint256 workId, address to) external {
        ownerOf[workId] = to;
    }

    function rootsOf(uint256 workId) external view returns (uint32[] memory) {
        return _roots[workId];
    }

    function rootSharesOf(uint256 workId) external view returns (uint32[] memory, uint32[] memory) {
        return (_roots[workId], _rootPpms[workId]);
    }

    function protocolOf(uint256) external pure returns (Protocol memory p) {
        return p;
    }
}

/// @notice A marketplace that pays royalties the two usual ways.
contract MarketplaceLike {
    function payByCall(address receiver) external payable {
        (bool ok,) = receiver.call{value: msg.value}("");
        require(ok, "royalty failed");
    }

    function payByTransfer(address payable receiver) external payable {
        receiver.transfer(msg.value);
    }
}
