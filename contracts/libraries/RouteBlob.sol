// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Recipient} from "./HeritageTypes.sol";

/// @title A work's routing table stored as contract code (the SSTORE2 technique)
/// @notice A work's parents and split never change together often, and are read on every
///         payment. Written once as the runtime code of a tiny contract, they cost 200 gas per
///         byte to store instead of 20,000 per slot, and one EXTCODECOPY (2,600 gas cold) to
///         read instead of 2,100 per slot.
/// @dev Layout of the code: 0x00 (STOP, so the pointer cannot be called into) ‖ parent count
///      (1 byte) ‖ per parent: work id (4 bytes) ‖ ppm (4 bytes) ‖ per recipient: account
///      (20 bytes) ‖ ppm (4 bytes).
library RouteBlob {
    uint256 private constant PARENT_BYTES = 8;
    uint256 private constant RECIPIENT_BYTES = 24;

    /// @notice Creating the code contract failed.
    error RouteBlobWriteFailed();

    /// @notice Store a routing table; returns the address holding it.
    function write(uint64[] memory parents, Recipient[] calldata split) internal returns (address pointer) {
        bytes memory data = abi.encodePacked(uint8(0), uint8(parents.length));
        for (uint256 i; i < parents.length; ++i) {
            data = bytes.concat(data, bytes8(parents[i]));
        }
        for (uint256 j; j < split.length; ++j) {
            data = bytes.concat(data, bytes20(split[j].account), bytes4(split[j].ppm));
        }
        // Init code: PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN,
        // followed by the data, which becomes the runtime code. len < 2^16 (<= 1 + 1 + 64 + 768).
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length), hex"80600a3d393df3", data);
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
        if (pointer == address(0)) revert RouteBlobWriteFailed();
    }

    /// @notice Load a routing table's bytes (without the leading STOP) into memory.
    function read(address pointer) internal view returns (bytes memory data) {
        uint256 size = pointer.code.length;
        if (size == 0) return data;
        data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, sub(size, 1))
        }
    }

    /// @notice Number of parents in a loaded table.
    function parentCount(bytes memory data) internal pure returns (uint256) {
        return data.length == 0 ? 0 : uint8(data[0]);
    }

    /// @notice Parent i of a loaded table: its work id and ppm.
    function parentAt(bytes memory data, uint256 i) internal pure returns (uint256 workId, uint32 ppm) {
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(add(data, 0x21), mul(i, 8)))
        }
        workId = uint32(word >> 224);
        ppm = uint32(word >> 192);
    }

    /// @notice Number of recipients in a loaded table.
    function recipientCount(bytes memory data) internal pure returns (uint256) {
        if (data.length == 0) return 0;
        return (data.length - 1 - parentCount(data) * PARENT_BYTES) / RECIPIENT_BYTES;
    }

    /// @notice Recipient j of a loaded table.
    function recipientAt(bytes memory data, uint256 j) internal pure returns (address account, uint32 ppm) {
        uint256 offset = 1 + parentCount(data) * PARENT_BYTES + j * RECIPIENT_BYTES;
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(add(data, 0x20), offset))
        }
        account = address(uint160(word >> 96));
        ppm = uint32(word >> 64);
    }
}
