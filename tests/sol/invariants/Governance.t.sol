// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {IRoyaltyRouter} from "../../../contracts/interfaces/IRoyaltyRouter.sol";
import {WorkStatus} from "../../../contracts/libraries/HeritageTypes.sol";
import {GovernanceHandler} from "./GovernanceHandler.sol";

/// @title Governance invariants: floors per root, no loosening or split change below k, consent
/// @notice Communities: 2-of-3, 1-of-1 and a 3-of-4 whose last steward keeps being swapped
///         (steward epochs advance mid-run). The handler mixes direct and signed protocol
///         changes, split changes, consents, refusals and derivatives of derivatives.
contract GovernanceInvariants is Test {
    GovernanceHandler internal handler;
    HeritageRegistry internal registry;
    RoyaltyRouter internal router;

    function setUp() public {
        router = new RoyaltyRouter();
        ProtocolRules rules = new ProtocolRules();
        IRoyaltyRouter r = IRoyaltyRouter(address(router));
        registry = new HeritageRegistry(r, rules, new HeritageGovernance(r, rules, 500), 500);
        router.bindRegistry(address(registry));
        handler = new GovernanceHandler(registry, router);
        uint256[] memory a = new uint256[](3);
        (a[0], a[1], a[2]) = (0xA1, 0xA2, 0xA3);
        handler.addCommunity(a, 2, makeAddr("treasuryA"), false);
        uint256[] memory b = new uint256[](1);
        b[0] = 0xB1;
        handler.addCommunity(b, 1, makeAddr("treasuryB"), false);
        uint256[] memory c = new uint256[](4);
        (c[0], c[1], c[2], c[3]) = (0xC1, 0xC2, 0xC3, 0xC4);
        handler.addCommunity(c, 3, makeAddr("treasuryC"), true);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = GovernanceHandler.registerHeritage.selector;
        selectors[1] = GovernanceHandler.registerDerivative.selector;
        selectors[2] = GovernanceHandler.setProtocol.selector;
        selectors[3] = GovernanceHandler.setSplit.selector;
        selectors[4] = GovernanceHandler.consent.selector;
        selectors[5] = GovernanceHandler.rotateStewards.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    /// @notice Every root's effective share of every derivative is what the lineage gives it
    ///         (recomputed independently) and at least the floor in force at its registration.
    function invariant_everyRootMeetsItsFloor() public view {
        uint256 n = handler.derivativeCount();
        for (uint256 i; i < n; ++i) {
            uint256 d = handler.derivatives(i);
            (uint32[] memory roots, uint32[] memory ppms) = registry.rootSharesOf(d);
            uint256[] memory ghostRoots = handler.rootsOf(d);
            assertEq(roots.length, ghostRoots.length, "root count");
            for (uint256 k; k < roots.length; ++k) {
                assertEq(ppms[k], handler.ghostShare(d, roots[k]), "effective share");
                assertGe(ppms[k], handler.ghostFloor(d, roots[k]));
            }
        }
    }

    /// @notice No loosening protocol change and no heritage split change applied with fewer
    ///         than k approvals of the same proposal in the same steward epoch.
    function invariant_noLooseningOrSplitBelowK() public view {
        assertEq(handler.ghostLooseningBelowK(), 0, "loosening below k");
        assertEq(handler.ghostSplitBelowK(), 0, "split below k");
    }

    /// @notice No active derivative misses a consent its roots required at registration.
    function invariant_noActiveDerivativeMissesConsent() public view {
        uint256 n = handler.derivativeCount();
        for (uint256 i; i < n; ++i) {
            uint256 d = handler.derivatives(i);
            if (router.statusOf(d) != WorkStatus.Active) continue;
            uint256[] memory needs = handler.needsOf(d);
            for (uint256 k; k < needs.length; ++k) {
                assertTrue(handler.ghostConsented(d, needs[k]), "consent missing");
            }
            assertEq(registry.pendingConsentsOf(d), 0);
        }
    }

    /// @notice The handler's paths are reachable: derivatives register, loosenings apply at k
    ///         (also by signature), splits change at k, consents are given and refused.
    function test_handler_ReachesEveryPath() public {
        for (uint256 i = 1; i < 400; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            uint256 action = i % 6;
            if (action == 0) handler.registerHeritage(seed);
            else if (action == 1) handler.registerDerivative(seed, uint32(seed >> 40), uint32(seed >> 80));
            else if (action == 2) handler.setProtocol(seed, i % 4 == 2);
            else if (action == 3) handler.setSplit(seed);
            else if (action == 4) handler.consent(seed, i % 8 == 4);
            else handler.rotateStewards(seed);
        }
        assertTrue(handler.derivativeCount() > 0, "derivatives");
        assertTrue(handler.ghostRefusals() > 0, "refusals");
        assertTrue(handler.ghostLooseningsApplied() > 0, "loosenings applied");
        assertTrue(handler.ghostSplitsApplied() > 0, "splits applied");
        assertTrue(handler.ghostConsents() + handler.ghostRejections() > 0, "consent decisions");
        invariant_everyRootMeetsItsFloor();
        invariant_noLooseningOrSplitBelowK();
        invariant_noActiveDerivativeMissesConsent();
    }
}
