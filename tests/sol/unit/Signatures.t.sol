// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {Fixture} from "../utils/Fixture.sol";
import {StewardTyped} from "../utils/StewardTyped.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RegistryCore} from "../../../contracts/RegistryCore.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {CommunityStewardship} from "../../../contracts/CommunityStewardship.sol";
import {StewardSignatures} from "../../../contracts/StewardSignatures.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {IRoyaltyRouter} from "../../../contracts/interfaces/IRoyaltyRouter.sol";
import {Protocol, Recipient, HeritageParams, WorkStatus} from "../../../contracts/libraries/HeritageTypes.sol";

/// @notice A minimal ERC-1271 wallet: a signature is valid when its owner key made it.
contract OwnerKeyWallet {
    bytes4 internal constant MAGIC = 0x1626ba7e; // bytes4(keccak256("isValidSignature(bytes32,bytes)"))
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? MAGIC : bytes4(0xffffffff);
    }
}

/// @title EIP-712 steward actions submitted by a relayer
/// @notice Every digest is rebuilt here from the type strings, independently of the contract.
contract SignaturesTest is Fixture {
    bytes32 internal constant RECIPIENT_TYPEHASH = keccak256("Recipient(address account,uint32 ppm)");
    // Referenced struct types follow the primary type, sorted by name (EIP-712 encodeType).
    bytes32 internal constant REGISTER_TYPEHASH = keccak256(
        "RegisterHeritageWork(uint256 communityId,bytes contentCid,bytes manifestCid,Protocol protocol,Recipient[] split,bytes32 salt,uint256 nonce,uint256 deadline)Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,bool mlAllowed,bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion,uint32 season)Recipient(address account,uint32 ppm)"
    );
    bytes32 internal constant APPROVE_TYPEHASH =
        keccak256("ApproveDerivative(uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)");
    /// @dev secp256k1 group order, to build the malleable twin of a signature.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal relayer;
    uint256 internal deadline;
    uint256 internal originalChainId;

    function setUp() public override {
        super.setUp();
        relayer = makeAddr("relayer");
        vm.warp(1_750_000_000);
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------ independent EIP-712

    function _domain(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return StewardTyped.domain(chainId, verifyingContract);
    }

    function _typed(bytes32 domain, bytes32 structHash) internal pure returns (bytes32) {
        return StewardTyped.typed(domain, structHash);
    }

    function _protocolHash(Protocol memory p) internal pure returns (bytes32) {
        return StewardTyped.protocolHash(p);
    }

    function _splitHash(Recipient[] memory split) internal pure returns (bytes32) {
        bytes memory packed;
        for (uint256 i; i < split.length; ++i) {
            packed = bytes.concat(packed, keccak256(abi.encode(RECIPIENT_TYPEHASH, split[i].account, split[i].ppm)));
        }
        return keccak256(packed);
    }

    function _registerHash(HeritageParams memory p, uint256 nonce, uint256 deadline_) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REGISTER_TYPEHASH,
                p.communityId,
                keccak256(p.contentCid),
                keccak256(p.manifestCid),
                _protocolHash(p.protocol),
                _splitHash(p.split),
                p.salt,
                nonce,
                deadline_
            )
        );
    }

    function _registerDigest(HeritageParams memory p, uint256 nonce, uint256 deadline_)
        internal
        view
        returns (bytes32)
    {
        return _typed(_domain(block.chainid, address(registry)), _registerHash(p, nonce, deadline_));
    }

    function _approveDigest(uint256 workId, uint256 communityId, uint256 nonce, uint256 deadline_)
        internal
        view
        returns (bytes32)
    {
        return _typed(
            _domain(block.chainid, address(registry)),
            keccak256(abi.encode(APPROVE_TYPEHASH, workId, communityId, nonce, deadline_))
        );
    }

    // ------------------------------------------------------------------ helpers

    function _params() internal returns (HeritageParams memory) {
        // The treasury split registers on one steward's signature (any other needs k).
        return _heritageParams(communityA, _open(100_000), _split(treasuryA));
    }

    function _signRegister(uint256 key, HeritageParams memory p, uint256 nonce) internal view returns (bytes memory) {
        return _sig(key, _registerDigest(p, nonce, deadline));
    }

    function _relayRegister(HeritageParams memory p, address steward, bytes memory signature)
        internal
        returns (uint256)
    {
        vm.prank(relayer);
        return registry.registerHeritageWorkBySig(p, steward, deadline, signature);
    }

    /// @dev The relayer submits `steward`'s signed approval of derivative `d` for `community`.
    function _relayApprove(uint256 d, uint256 community, address steward, uint256 deadline_, bytes memory signature)
        internal
    {
        vm.prank(relayer);
        gov.approveDerivativeBySig(d, community, steward, deadline_, signature);
    }

    /// @dev a1's signature approving derivative `d` for community A with `nonce`, valid until `deadline`.
    function _a1Approves(uint256 d, uint256 nonce) internal view returns (bytes memory) {
        return _sig(KEY_A1, _approveDigest(d, communityA, nonce, deadline));
    }

    /// @dev Relaying a1's `signature` as an approval of `d` reverts: not a valid signature of a1's.
    function _relayA1Invalid(uint256 d, bytes memory signature) internal {
        vm.expectRevert(_invalid(a1));
        _relayApprove(d, communityA, a1, deadline, signature);
    }

    function _invalid(address signer) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(StewardSignatures.RegistryInvalidSignature.selector, signer);
    }

    /// @dev A derivative of a consent-requiring heritage work of community A: Pending.
    function _pendingDerivative() internal returns (uint256 d) {
        Protocol memory p = _open(0);
        p.consentRequired = true;
        uint256 h = _registerHeritageOf(communityA, a1, p, _split(treasuryA));
        d = _registerDerivative(_one(h), _ppm(200_000));
    }

    // ------------------------------------------------------------------ the domain

    function test_eip712Domain_NamesRegistryVersionOneChainAndAddress() public view {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = registry.eip712Domain();
        assertEq(name, "HeritageRegistry");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(registry));
    }

    // ------------------------------------------------------------------ registerHeritageWorkBySig

    function test_registerHeritageDigest_MatchesIndependentDigest() public {
        HeritageParams memory p = _params();
        assertEq(registry.registerHeritageDigest(p, 0, deadline), _registerDigest(p, 0, deadline));
        assertEq(registry.registerHeritageDigest(p, 7, deadline + 1), _registerDigest(p, 7, deadline + 1));
    }

    function testFuzz_registerHeritageDigest_MatchesIndependentDigest(
        uint256 communityId,
        bytes32 seed,
        uint8 flags,
        uint32 floorPpm,
        uint64 labels,
        uint16 labelsVersion,
        uint8 recipients,
        uint256 nonce,
        uint256 deadline_
    ) public view {
        Protocol memory protocol = Protocol(
            flags & 1 != 0,
            flags & 2 != 0,
            flags & 4 != 0,
            flags & 8 != 0,
            flags & 16 != 0,
            flags & 32 != 0,
            floorPpm,
            labels,
            labelsVersion,
            0
        );
        HeritageParams memory p = HeritageParams(
            communityId,
            abi.encodePacked(hex"01551220", seed),
            abi.encodePacked(hex"01701220", keccak256(abi.encode(seed))),
            protocol,
            _splitN(bound(recipients, 1, 32), uint256(seed)),
            seed
        );
        assertEq(registry.registerHeritageDigest(p, nonce, deadline_), _registerDigest(p, nonce, deadline_));
    }

    function test_registerHeritageWorkBySig_RelayerSubmitsStewardsSignature() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A2, p, 0);
        uint256 id = _relayRegister(p, a2, signature);

        assertEq(id, 1);
        assertEq(registry.workOf(id).registrant, a2, "the steward is the registrant, not the relayer");
        assertEq(registry.workOf(id).communityId, communityA);
        assertEq(registry.ownerOf(id), treasuryA);
        assertEq(registry.workByContent(p.contentCid), id);
        assertEq(registry.nonces(a2), 1, "the nonce is consumed");
        assertEq(registry.nonces(relayer), 0);
        assertEq(router.splitOf(id).length, 1, "the treasury split registers on one signature");
    }

    function test_registerHeritageWorkBySig_EmitsWithStewardAsRegistrant() public {
        HeritageParams memory p = _params();
        p.communityId = communityB;
        bytes memory signature = _signRegister(KEY_B1, p, 0);
        vm.expectEmit(true, true, true, true, address(registry));
        emit RegistryCore.HeritageWorkRegistered(1, communityB, b1, p.contentCid, bytes32(0), p.manifestCid);
        _relayRegister(p, b1, signature);
    }

    function test_registerHeritageWorkBySig_DeadlineIsInclusive() public {
        HeritageParams memory p = _params();
        deadline = block.timestamp;
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        assertEq(_relayRegister(p, a1, signature), 1);
    }

    function test_registerHeritageWorkBySig_RevertWhen_Replayed() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        _relayRegister(p, a1, signature);
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, signature);
        assertEq(registry.nonces(a1), 1);
    }

    function test_registerHeritageWorkBySig_RevertWhen_NonceAheadOfCurrent() public {
        HeritageParams memory first = _params();
        HeritageParams memory second = _params();
        bytes memory sigFirst = _signRegister(KEY_A1, first, 0);
        bytes memory sigSecond = _signRegister(KEY_A1, second, 1);

        vm.expectRevert(_invalid(a1));
        _relayRegister(second, a1, sigSecond);
        assertEq(registry.nonces(a1), 0);

        // In order, both go through.
        assertEq(_relayRegister(first, a1, sigFirst), 1);
        assertEq(_relayRegister(second, a1, sigSecond), 2);
        assertEq(registry.nonces(a1), 2);
    }

    function test_registerHeritageWorkBySig_RevertWhen_Expired() public {
        HeritageParams memory p = _params();
        deadline = block.timestamp - 1;
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistrySignatureExpired.selector, deadline));
        _relayRegister(p, a1, signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_ExpiredAfterSigning() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistrySignatureExpired.selector, deadline));
        _relayRegister(p, a1, signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignedForAnotherChain() public {
        HeritageParams memory p = _params();
        bytes32 otherChainDigest = _typed(_domain(block.chainid + 1, address(registry)), _registerHash(p, 0, deadline));
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, _sig(KEY_A1, otherChainDigest));
    }

    function test_registerHeritageWorkBySig_RevertWhen_ChainIdChangesAfterSigning() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        // Held in storage: under via-IR a local copy of block.chainid may be re-read after vm.chainId.
        originalChainId = block.chainid;
        uint256 original = originalChainId;
        vm.chainId(original + 100);
        assertEq(
            registry.registerHeritageDigest(p, 0, deadline),
            _typed(_domain(original + 100, address(registry)), _registerHash(p, 0, deadline)),
            "the domain follows the current chain id"
        );
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, signature);
        vm.chainId(originalChainId);
        assertEq(_relayRegister(p, a1, signature), 1, "back on the signed chain it is valid");
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignedForAnotherRegistry() public {
        RoyaltyRouter otherRouter = new RoyaltyRouter();
        HeritageRegistry other = new HeritageRegistry(
            IRoyaltyRouter(address(otherRouter)),
            rules,
            new HeritageGovernance(IRoyaltyRouter(address(otherRouter)), rules, ROYALTY_BPS),
            ROYALTY_BPS
        );
        otherRouter.bindRegistry(address(other));
        address[] memory stewards = new address[](3);
        (stewards[0], stewards[1], stewards[2]) = (a1, a2, a3);
        other.registerCommunity("Han folk singers of Shaanxi", stewards, 2, treasuryA);

        HeritageParams memory p = _params();
        other.commitRegistration(_commitmentOf(a1, p.contentCid, p.salt));
        vm.roll(block.number + 1);
        bytes32 otherDigest = _typed(_domain(block.chainid, address(other)), _registerHash(p, 0, deadline));
        assertEq(other.registerHeritageDigest(p, 0, deadline), otherDigest);
        bytes memory signature = _sig(KEY_A1, otherDigest);

        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, signature);
        vm.prank(relayer);
        assertEq(other.registerHeritageWorkBySig(p, a1, deadline, signature), 1, "valid where it was meant");
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignerNotSteward() public {
        HeritageParams memory p = _params(); // community A; b1 is not its steward
        bytes memory signature = _signRegister(KEY_B1, p, 0);
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryNotSteward.selector, communityA, b1));
        _relayRegister(p, b1, signature);
        assertEq(registry.nonces(b1), 0, "the reverted call consumed nothing");
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignatureByAnotherKey() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A2, p, 0); // a2 signed, but a1 is named
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_ParamsAltered() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        p.split = _split(relayer); // the relayer tries to take the royalties
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_DeadlineAltered() public {
        HeritageParams memory p = _params();
        bytes memory signature = _signRegister(KEY_A1, p, 0);
        vm.expectRevert(_invalid(a1));
        vm.prank(relayer);
        registry.registerHeritageWorkBySig(p, a1, deadline + 1, signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignatureMalleated() public {
        HeritageParams memory p = _params();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(KEY_A1, _registerDigest(p, 0, deadline));
        bytes memory twin = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, twin);
    }

    function test_registerHeritageWorkBySig_RevertWhen_SignatureMalformed() public {
        HeritageParams memory p = _params();
        vm.expectRevert(_invalid(a1));
        _relayRegister(p, a1, hex"1234");
    }

    function test_registerHeritageWorkBySig_RevertWhen_StewardIsZeroAddress() public {
        // ecrecover yields address(0) for garbage; that must never pass as the zero address's signature.
        HeritageParams memory p = _params();
        bytes memory garbage = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(27));
        vm.expectRevert(_invalid(address(0)));
        _relayRegister(p, address(0), garbage);
    }

    // ------------------------------------------------------------------ ERC-1271 stewards

    /// @dev A community whose one steward is an ERC-1271 wallet of `ownerKey`, and a heritage work
    ///      of it to register (the wallet's commitment stored).
    function _walletWork(uint256 ownerKey)
        internal
        returns (OwnerKeyWallet wallet, uint256 c, HeritageParams memory p)
    {
        wallet = new OwnerKeyWallet(vm.addr(ownerKey));
        address[] memory stewards = new address[](1);
        stewards[0] = address(wallet);
        c = registry.registerCommunity("Wallet-governed archive", stewards, 1, treasuryB);
        p = _heritageParams(c, _open(0), _split(treasuryB));
        _storeCommitment(p.contentCid, address(wallet));
    }

    function test_registerHeritageWorkBySig_ContractStewardSignsThroughErc1271() public {
        uint256 ownerKey = 0xC0FFEE;
        (OwnerKeyWallet wallet,, HeritageParams memory p) = _walletWork(ownerKey);
        bytes memory signature = _sig(ownerKey, _registerDigest(p, 0, deadline));

        uint256 id = _relayRegister(p, address(wallet), signature);
        assertEq(registry.workOf(id).registrant, address(wallet));
        assertEq(registry.nonces(address(wallet)), 1);
        vm.expectRevert(_invalid(address(wallet)));
        _relayRegister(p, address(wallet), signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_Erc1271WalletRefuses() public {
        (OwnerKeyWallet wallet,, HeritageParams memory p) = _walletWork(0xC0FFEE);
        bytes memory signature = _sig(0xBAD, _registerDigest(p, 0, deadline));
        vm.expectRevert(_invalid(address(wallet)));
        _relayRegister(p, address(wallet), signature);
    }

    function test_registerHeritageWorkBySig_RevertWhen_OwnerKeyNamedInsteadOfWallet() public {
        uint256 ownerKey = 0xC0FFEE;
        (, uint256 c, HeritageParams memory p) = _walletWork(ownerKey);
        bytes memory signature = _sig(ownerKey, _registerDigest(p, 0, deadline));
        // The owner's key is valid for itself, but it is not a steward: only the wallet is.
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryNotSteward.selector, c, vm.addr(ownerKey)));
        _relayRegister(p, vm.addr(ownerKey), signature);
    }

    // ------------------------------------------------------------------ approveDerivativeBySig

    function test_approveDerivativeDigest_MatchesIndependentDigest() public view {
        assertEq(
            registry.approveDerivativeDigest(5, communityA, 3, deadline), _approveDigest(5, communityA, 3, deadline)
        );
    }

    function testFuzz_approveDerivativeDigest_MatchesIndependentDigest(
        uint256 workId,
        uint256 communityId,
        uint256 nonce,
        uint256 deadline_
    ) public view {
        assertEq(
            registry.approveDerivativeDigest(workId, communityId, nonce, deadline_),
            _approveDigest(workId, communityId, nonce, deadline_)
        );
    }

    function test_approveDerivativeBySig_ThresholdOfSignaturesGivesConsent() public {
        uint256 d = _pendingDerivative();
        bytes memory sig1 = _a1Approves(d, 0);
        bytes memory sig3 = _sig(KEY_A3, _approveDigest(d, communityA, 0, deadline));

        vm.prank(relayer);
        assertFalse(gov.approveDerivativeBySig(d, communityA, a1, deadline, sig1));
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Pending));
        assertEq(registry.approvalsOf(communityA, keccak256(abi.encode("CONSENT", d))), 1);

        vm.expectEmit(true, true, true, true, address(registry));
        emit RegistryCore.DerivativeConsented(d, communityA, 0);
        vm.prank(relayer);
        assertTrue(gov.approveDerivativeBySig(d, communityA, a3, deadline, sig3));
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Active));
        assertEq(registry.nonces(a1), 1);
        assertEq(registry.nonces(a3), 1);
    }

    function test_approveDerivativeBySig_MixesWithDirectApproval() public {
        uint256 d = _pendingDerivative();
        vm.prank(a2);
        gov.approveDerivative(d, communityA);
        bytes memory sig1 = _a1Approves(d, 0);
        vm.prank(relayer);
        assertTrue(gov.approveDerivativeBySig(d, communityA, a1, deadline, sig1));
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Active));
    }

    function test_approveDerivativeBySig_NoncesAreSharedAcrossActions() public {
        HeritageParams memory p = _params();
        _relayRegister(p, a1, _signRegister(KEY_A1, p, 0)); // uses a1's nonce 0
        uint256 d = _pendingDerivative();
        bytes memory stale = _a1Approves(d, 0);
        _relayA1Invalid(d, stale);
        bytes memory fresh = _a1Approves(d, 1);
        _relayApprove(d, communityA, a1, deadline, fresh);
        assertEq(registry.nonces(a1), 2);
    }

    function test_approveDerivativeBySig_RevertWhen_Replayed() public {
        uint256 d = _pendingDerivative();
        bytes memory sig1 = _a1Approves(d, 0);
        _relayApprove(d, communityA, a1, deadline, sig1);
        _relayA1Invalid(d, sig1);
    }

    function test_approveDerivativeBySig_RevertWhen_NonceAheadOfCurrent() public {
        uint256 d = _pendingDerivative();
        bytes memory ahead = _a1Approves(d, 1);
        _relayA1Invalid(d, ahead);
    }

    function test_approveDerivativeBySig_RevertWhen_UsedForAnotherWork() public {
        uint256 d1 = _pendingDerivative();
        uint256 d2 = _pendingDerivative();
        bytes memory forD1 = _a1Approves(d1, 0);
        _relayA1Invalid(d2, forD1);
    }

    function test_approveDerivativeBySig_RevertWhen_Expired() public {
        uint256 d = _pendingDerivative();
        uint256 past = block.timestamp - 1;
        bytes memory signature = _sig(KEY_A1, _approveDigest(d, communityA, 0, past));
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistrySignatureExpired.selector, past));
        _relayApprove(d, communityA, a1, past, signature);
    }

    function test_approveDerivativeBySig_RevertWhen_SignedForAnotherChain() public {
        uint256 d = _pendingDerivative();
        bytes32 digest = _typed(
            _domain(block.chainid + 1, address(registry)),
            keccak256(abi.encode(APPROVE_TYPEHASH, d, communityA, 0, deadline))
        );
        vm.expectRevert(_invalid(a1));
        vm.prank(relayer);
        gov.approveDerivativeBySig(d, communityA, a1, deadline, _sig(KEY_A1, digest));
    }

    function test_approveDerivativeBySig_RevertWhen_SignerNotSteward() public {
        uint256 d = _pendingDerivative();
        bytes memory signature = _sig(KEY_B1, _approveDigest(d, communityA, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryNotSteward.selector, communityA, b1));
        _relayApprove(d, communityA, b1, deadline, signature);
    }
}
