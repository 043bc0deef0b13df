/*
 * remote/scsi.h: SCSI constants shared by the disk and the host adapter:
 * operation codes (SPC-4/SBC-3 names), status bytes, sense keys and the
 * additional sense codes this project reports. Constants only; no code.
 */
#ifndef MPJAIL_REMOTE_SCSI_H
#define MPJAIL_REMOTE_SCSI_H

#include <stdint.h>

/* Operation codes. */
#define SCSI_OP_TEST_UNIT_READY           0x00
#define SCSI_OP_REZERO_UNIT               0x01
#define SCSI_OP_REQUEST_SENSE             0x03
#define SCSI_OP_FORMAT_UNIT               0x04
#define SCSI_OP_READ_BLOCK_LIMITS         0x05
#define SCSI_OP_READ_6                    0x08
#define SCSI_OP_WRITE_6                   0x0a
#define SCSI_OP_SET_CAPACITY              0x0b
#define SCSI_OP_READ_REVERSE              0x0f
#define SCSI_OP_WRITE_FILEMARKS           0x10
#define SCSI_OP_SPACE                     0x11
#define SCSI_OP_INQUIRY                   0x12
#define SCSI_OP_MODE_SELECT_6             0x15
#define SCSI_OP_RESERVE_6                 0x16
#define SCSI_OP_RELEASE_6                 0x17
#define SCSI_OP_ERASE                     0x19
#define SCSI_OP_MODE_SENSE_6              0x1a
#define SCSI_OP_START_STOP_UNIT           0x1b
#define SCSI_OP_RECEIVE_DIAGNOSTIC        0x1c
#define SCSI_OP_SEND_DIAGNOSTIC           0x1d
#define SCSI_OP_PREVENT_ALLOW_MEDIUM_REMOVAL 0x1e
#define SCSI_OP_READ_CAPACITY_10          0x25
#define SCSI_OP_READ_10                   0x28
#define SCSI_OP_WRITE_10                  0x2a
#define SCSI_OP_SEEK_10                   0x2b
#define SCSI_OP_WRITE_AND_VERIFY_10       0x2e
#define SCSI_OP_VERIFY_10                 0x2f
#define SCSI_OP_SET_LIMITS                0x33
#define SCSI_OP_PRE_FETCH_10              0x34
#define SCSI_OP_SYNCHRONIZE_CACHE_10      0x35
#define SCSI_OP_LOCK_UNLOCK_CACHE         0x36
#define SCSI_OP_WRITE_BUFFER              0x3b
#define SCSI_OP_READ_BUFFER               0x3c
#define SCSI_OP_UPDATE_BLOCK              0x3d
#define SCSI_OP_WRITE_LONG_10             0x3f
#define SCSI_OP_WRITE_SAME_10             0x41
#define SCSI_OP_UNMAP                     0x42
#define SCSI_OP_READ_TOC                  0x43
#define SCSI_OP_GET_CONFIGURATION         0x46
#define SCSI_OP_GET_EVENT_STATUS_NOTIFICATION 0x4a
#define SCSI_OP_LOG_SELECT                0x4c
#define SCSI_OP_LOG_SENSE                 0x4d
#define SCSI_OP_READ_DISC_INFORMATION     0x51
#define SCSI_OP_RESERVE_TRACK             0x53
#define SCSI_OP_MODE_SELECT_10            0x55
#define SCSI_OP_RESERVE_10                0x56
#define SCSI_OP_RELEASE_10                0x57
#define SCSI_OP_MODE_SENSE_10             0x5a
#define SCSI_OP_SEND_CUE_SHEET            0x5d
#define SCSI_OP_PERSISTENT_RESERVE_IN     0x5e
#define SCSI_OP_PERSISTENT_RESERVE_OUT    0x5f
#define SCSI_OP_WRITE_FILEMARKS_16        0x80
#define SCSI_OP_ALLOW_OVERWRITE           0x82
#define SCSI_OP_ATA_PASS_THROUGH_16       0x85
#define SCSI_OP_READ_16                   0x88
#define SCSI_OP_WRITE_16                  0x8a
#define SCSI_OP_WRITE_AND_VERIFY_16       0x8e
#define SCSI_OP_VERIFY_16                 0x8f
#define SCSI_OP_PRE_FETCH_16              0x90
#define SCSI_OP_SYNCHRONIZE_CACHE_16      0x91
#define SCSI_OP_LOCATE_16                 0x92
#define SCSI_OP_WRITE_SAME_16             0x93
#define SCSI_OP_SERVICE_ACTION_IN_16      0x9e
#define SCSI_OP_REPORT_LUNS               0xa0
#define SCSI_OP_ATA_PASS_THROUGH_12       0xa1
#define SCSI_OP_MAINTENANCE_IN            0xa3
#define SCSI_OP_MAINTENANCE_OUT           0xa4
#define SCSI_OP_SET_READ_AHEAD            0xa7
#define SCSI_OP_READ_12                   0xa8
#define SCSI_OP_WRITE_12                  0xaa
#define SCSI_OP_ERASE_12                  0xac
#define SCSI_OP_READ_DVD_STRUCTURE        0xad
#define SCSI_OP_WRITE_AND_VERIFY_12       0xae
#define SCSI_OP_VERIFY_12                 0xaf
#define SCSI_OP_SEND_VOLUME_TAG           0xb6
#define SCSI_OP_SET_CD_SPEED              0xbb
#define SCSI_OP_MECHANISM_STATUS          0xbd
#define SCSI_OP_READ_CD                   0xbe
#define SCSI_OP_SEND_DVD_STRUCTURE        0xbf

/* SERVICE ACTION IN (16) service actions. */
#define SCSI_SAI_READ_CAPACITY_16         0x10

/* Status bytes (SAM-5). */
#define SCSI_STATUS_GOOD                  0x00
#define SCSI_STATUS_CHECK_CONDITION       0x02
#define SCSI_STATUS_BUSY                  0x08
#define SCSI_STATUS_RESERVATION_CONFLICT  0x18
#define SCSI_STATUS_TASK_SET_FULL         0x28

/* Sense keys (SPC-4 table 48). */
#define SCSI_SK_NO_SENSE                  0x0
#define SCSI_SK_RECOVERED_ERROR           0x1
#define SCSI_SK_NOT_READY                 0x2
#define SCSI_SK_MEDIUM_ERROR              0x3
#define SCSI_SK_HARDWARE_ERROR            0x4
#define SCSI_SK_ILLEGAL_REQUEST           0x5
#define SCSI_SK_UNIT_ATTENTION            0x6
#define SCSI_SK_DATA_PROTECT              0x7
#define SCSI_SK_ABORTED_COMMAND           0xb

/* Additional sense code and qualifier, as one 16-bit value ASC << 8 | ASCQ. */
#define SCSI_ASC_NO_ADDITIONAL_SENSE                0x0000
#define SCSI_ASC_IO_PROCESS_TERMINATED              0x0006
#define SCSI_ASC_LUN_NOT_READY_MANUAL_INTERVENTION  0x0403
#define SCSI_ASC_UNRECOVERED_READ_ERROR             0x1100
#define SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR        0x1a00
#define SCSI_ASC_INVALID_COMMAND_OPERATION_CODE     0x2000
#define SCSI_ASC_LBA_OUT_OF_RANGE                   0x2100
#define SCSI_ASC_INVALID_FIELD_IN_CDB               0x2400
#define SCSI_ASC_LOGICAL_UNIT_NOT_SUPPORTED         0x2500
#define SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST    0x2600
#define SCSI_ASC_WRITE_PROTECTED                    0x2700
#define SCSI_ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT 0x2707
#define SCSI_ASC_POWER_ON_RESET_OR_BUS_DEVICE_RESET 0x2900
#define SCSI_ASC_SAVING_PARAMETERS_NOT_SUPPORTED    0x3900
#define SCSI_ASC_MEDIUM_NOT_PRESENT                 0x3a00
#define SCSI_ASC_INTERNAL_TARGET_FAILURE            0x4400

/* Peripheral device types. */
#define SCSI_TYPE_DISK                    0x00
#define SCSI_TYPE_NO_LUN                  0x7f

/* Fixed-format sense data (SPC-4 4.5.3), as QEMU builds it: 18 bytes. */
#define SCSI_SENSE_FIXED                  0x70
#define SCSI_SENSE_DESCRIPTOR             0x72
#define SCSI_SENSE_LEN                    18u

/* Mode pages (SBC-3). */
#define SCSI_MODE_PAGE_RW_ERROR           0x01
#define SCSI_MODE_PAGE_HD_GEOMETRY        0x04
#define SCSI_MODE_PAGE_FLEXIBLE_GEOMETRY  0x05
#define SCSI_MODE_PAGE_CACHING            0x08
#define SCSI_MODE_PAGE_CONTROL            0x0a
#define SCSI_MODE_PAGE_ALL                0x3f

#endif
