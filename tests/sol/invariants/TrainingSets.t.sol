// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Merkle} from "../utils/Merkle.sol";
import {TrainingSets} from "../../../contracts/TrainingSets.sol";
import {ITrainingRegistry} from "../../../contracts/interfaces/ITrainingRegistry.sol";
import {Recipient, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";
import {TrainingSetsHandler} from "./TrainingSetsHandler.sol";

/// @title A model's training-set share is split exactly by the counts, and no wei is lost
/// @notice Set: 5 works of A, 2 of B, 1 of C (total 8); the model's split gives its pot 1/3.
contract TrainingSetsInvariants is Fixture {
    TrainingSets internal sets;
    TrainingSetsHandler internal handler;
    uint256 internal model;
    uint256 internal communityC;
    address internal treasuryC;

    function setUp() public override {
        super.setUp();
        sets = new TrainingSets(ITrainingRegistry(address(registry)));
        treasuryC = makeAddr("treasuryC");
        address[] memory stewards = new address[](1);
        stewards[0] = b1;
        communityC = registry.registerCommunity("C", stewards, 1, treasuryC);
        uint256[3] memory ids = [communityA, communityB, communityC];
        uint256[3] memory counts = [uint256(5), 2, 1];
        bytes32[] memory leaves = new bytes32[](8);
        uint256[] memory works = new uint256[](8);
        bytes[] memory cids = new bytes[](8);
        uint256 k;
        for (uint256 c; c < 3; ++c) {
            for (uint256 j; j < counts[c]; ++j) {
                works[k] = c == 0
                    ? _registerHeritage(_open(0))
                    : _registerHeritageOf(ids[c], b1, _open(0), _split(c == 1 ? treasuryB : treasuryC));
                cids[k] = registry.workOf(works[k]).contentCid;
                leaves[k] = sets.leafOf(works[k], cids[k]);
                ++k;
            }
        }
        DerivativeParams memory p = _derivativeParams(_one(works[0]), _ppm(50_000), _split(creator));
        p.modelCid = p.contentCid;
        vm.prank(creator);
        model = registry.registerDerivative(p);

        TrainingSets.CommunityCount[] memory cc = new TrainingSets.CommunityCount[](3);
        TrainingSets.Sample[] memory samples = new TrainingSets.Sample[](3);
        uint256[3] memory first = [uint256(0), 5, 7];
        for (uint256 c; c < 3; ++c) {
            cc[c] = TrainingSets.CommunityCount(ids[c], counts[c]);
            samples[c] = TrainingSets.Sample(works[first[c]], cids[first[c]], Merkle.proof(leaves, first[c]));
        }
        vm.startPrank(creator);
        sets.anchor(model, Merkle.root(leaves), p.manifestCid, cc, 8, samples);
        Recipient[] memory split = new Recipient[](2);
        split[0] = Recipient(creator, 666_667);
        split[1] = Recipient(sets.potOf(model), 333_333);
        gov.setSplit(model, split);
        vm.stopPrank();

        uint256[] memory list = new uint256[](3);
        address[] memory treasuries = new address[](3);
        (list[0], list[1], list[2]) = (communityA, communityB, communityC);
        (treasuries[0], treasuries[1], treasuries[2]) = (treasuryA, treasuryB, treasuryC);
        handler = new TrainingSetsHandler(sets, router, model, list, treasuries);
        targetContract(address(handler));
    }

    /// @notice Each community's credits (owed + withdrawn) × total == distributed × its count.
    function invariant_shareIsSplitExactlyByCounts() public view {
        (, uint256 total,, uint256 arrived, uint256 distributed) = sets.trainingSetOf(model);
        (uint256[] memory ids, uint256[] memory counts, uint256[] memory withdrawn) = sets.entriesOf(model);
        uint256 credited;
        for (uint256 i; i < ids.length; ++i) {
            uint256 c = sets.owedOf(model, ids[i]) + withdrawn[i];
            assertEq(c * total, distributed * counts[i], "by counts");
            credited += c;
        }
        assertEq(credited, distributed, "credits == distributed");
        assertEq(distributed + arrived % total, arrived, "carry");
        assertLt(arrived - distributed, total);
        assertEq(arrived, handler.ghostArrived(), "arrived == ghost");
    }

    /// @notice What the contract holds is exactly what arrived less what was withdrawn.
    function invariant_balanceIsArrivedLessWithdrawn() public view {
        assertEq(address(sets).balance, handler.ghostArrived() - handler.ghostWithdrawn());
        uint256 out = treasuryA.balance + treasuryB.balance + treasuryC.balance;
        assertEq(out, handler.ghostWithdrawn());
    }

    /// @notice What the router credited the pot either waits at the router or has arrived in the
    ///         set; together at most a third of what was paid to the model (its pot's share).
    function invariant_potCreditsAreNotLost() public view {
        uint256 atRouter = router.balanceOf(address(0), sets.potOf(model));
        assertLe(atRouter + handler.ghostFromPot(), handler.ghostPaidToRouter() * 333_333 / 1_000_000);
        assertEq(router.balanceOf(address(0), address(sets)), 0);
    }
}
