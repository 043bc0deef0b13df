/*
 * remote/lsi_regs.h: LSI53C895A register offsets and bits, named as in the
 * LSI53C895A technical manual. Pure constants; no trust decisions here.
 */
#ifndef MPJAIL_REMOTE_LSI_REGS_H
#define MPJAIL_REMOTE_LSI_REGS_H

/* Register offsets (BAR-relative; the MMIO BAR repeats every 256 bytes). */
#define LSI_SCNTL0   0x00
#define LSI_SCNTL1   0x01
#define LSI_SCNTL2   0x02
#define LSI_SCNTL3   0x03
#define LSI_SCID     0x04
#define LSI_SXFER    0x05
#define LSI_SDID     0x06
#define LSI_GPREG    0x07
#define LSI_SFBR     0x08
#define LSI_SOCL     0x09
#define LSI_SSID     0x0a
#define LSI_SBCL     0x0b
#define LSI_DSTAT    0x0c
#define LSI_SSTAT0   0x0d
#define LSI_SSTAT1   0x0e
#define LSI_SSTAT2   0x0f
#define LSI_DSA      0x10
#define LSI_ISTAT    0x14
#define LSI_ISTAT1   0x15
#define LSI_MBOX0    0x16
#define LSI_MBOX1    0x17
#define LSI_CTEST0   0x18
#define LSI_CTEST1   0x19
#define LSI_CTEST2   0x1a
#define LSI_CTEST3   0x1b
#define LSI_TEMP     0x1c
#define LSI_DFIFO    0x20
#define LSI_CTEST4   0x21
#define LSI_CTEST5   0x22
#define LSI_CTEST6   0x23
#define LSI_DBC      0x24 /* 24 bits */
#define LSI_DCMD     0x27
#define LSI_DNAD     0x28
#define LSI_DSP      0x2c
#define LSI_DSPS     0x30
#define LSI_SCRATCHA 0x34
#define LSI_DMODE    0x38
#define LSI_DIEN     0x39
#define LSI_SBR      0x3a
#define LSI_DCNTL    0x3b
#define LSI_ADDER    0x3c
#define LSI_SIEN0    0x40
#define LSI_SIEN1    0x41
#define LSI_SIST0    0x42
#define LSI_SIST1    0x43
#define LSI_SLPAR    0x44
#define LSI_MACNTL   0x46
#define LSI_GPCNTL   0x47
#define LSI_STIME0   0x48
#define LSI_STIME1   0x49
#define LSI_RESPID0  0x4a
#define LSI_RESPID1  0x4b
#define LSI_STEST0   0x4c
#define LSI_STEST1   0x4d
#define LSI_STEST2   0x4e
#define LSI_STEST3   0x4f
#define LSI_SIDL     0x50
#define LSI_STEST4   0x52
#define LSI_SODL     0x54
#define LSI_CCNTL0   0x56
#define LSI_CCNTL1   0x57
#define LSI_SBDL     0x58
#define LSI_SCRATCHB 0x5c /* SCRATCHB..SCRATCHR: 0x5c..0x9f */
#define LSI_SCRATCHC 0x60
#define LSI_SCRATCHR 0x9c
#define LSI_MMRS     0xa0
#define LSI_MMWS     0xa4
#define LSI_SFS      0xa8
#define LSI_DRS      0xac
#define LSI_SBMS     0xb0
#define LSI_DBMS     0xb4
#define LSI_DNAD64   0xb8
#define LSI_PMJAD1   0xc0
#define LSI_PMJAD2   0xc4
#define LSI_RBC      0xc8
#define LSI_UA       0xcc
#define LSI_ESA      0xd0
#define LSI_IA       0xd4
#define LSI_SBC      0xd8
#define LSI_CSBC     0xdc

/* SCNTL0 */
#define LSI_SCNTL0_TRG   0x01
#define LSI_SCNTL0_AAP   0x02
#define LSI_SCNTL0_EPC   0x08
#define LSI_SCNTL0_WATN  0x10
#define LSI_SCNTL0_START 0x20
/* SCNTL1 */
#define LSI_SCNTL1_SST   0x01
#define LSI_SCNTL1_IARB  0x02
#define LSI_SCNTL1_AESP  0x04
#define LSI_SCNTL1_RST   0x08
#define LSI_SCNTL1_CON   0x10
#define LSI_SCNTL1_DHP   0x20
#define LSI_SCNTL1_ADB   0x40
#define LSI_SCNTL1_EXC   0x80
/* SCNTL2 */
#define LSI_SCNTL2_WSR   0x01
#define LSI_SCNTL2_WSS   0x08
/* SCID */
#define LSI_SCID_RRE     0x60 /* respond to reselection (and selection) */
/* SOCL / SBCL: SCSI control lines */
#define LSI_SOCL_IO      0x01
#define LSI_SOCL_CD      0x02
#define LSI_SOCL_MSG     0x04
#define LSI_SOCL_ATN     0x08
#define LSI_SOCL_SEL     0x10
#define LSI_SOCL_BSY     0x20
#define LSI_SOCL_ACK     0x40
#define LSI_SOCL_REQ     0x80
#define LSI_SBCL_ATN     0x08
#define LSI_SBCL_BSY     0x20
#define LSI_SBCL_ACK     0x40
#define LSI_SBCL_REQ     0x80
/* DSTAT */
#define LSI_DSTAT_IID    0x01
#define LSI_DSTAT_SIR    0x04
#define LSI_DSTAT_SSI    0x08
#define LSI_DSTAT_ABRT   0x10
#define LSI_DSTAT_BF     0x20
#define LSI_DSTAT_MDPE   0x40
#define LSI_DSTAT_DFE    0x80
/* SSTAT0 */
#define LSI_SSTAT0_RST   0x02
#define LSI_SSTAT0_WOA   0x04
/* SSTAT2 */
#define LSI_SSTAT2_LDSC  0x02
/* ISTAT (ISTAT0) */
#define LSI_ISTAT_DIP    0x01
#define LSI_ISTAT_SIP    0x02
#define LSI_ISTAT_INTF   0x04
#define LSI_ISTAT_CON    0x08
#define LSI_ISTAT_SEM    0x10
#define LSI_ISTAT_SIGP   0x20
#define LSI_ISTAT_SRST   0x40
#define LSI_ISTAT_ABRT   0x80
/* ISTAT1 */
#define LSI_ISTAT1_SI    0x01
#define LSI_ISTAT1_SRUN  0x02
#define LSI_ISTAT1_FLSH  0x04
/* CTEST2 */
#define LSI_CTEST2_DACK  0x01
#define LSI_CTEST2_PCICIE 0x08
#define LSI_CTEST2_CM    0x10
#define LSI_CTEST2_SIGP  0x40
/* DMODE */
#define LSI_DMODE_MAN    0x01
#define LSI_DMODE_DIOM   0x10
#define LSI_DMODE_SIOM   0x20
/* DCNTL */
#define LSI_DCNTL_COM    0x01
#define LSI_DCNTL_IRQD   0x02
#define LSI_DCNTL_STD    0x04
#define LSI_DCNTL_IRQM   0x08
#define LSI_DCNTL_SSM    0x10
#define LSI_DCNTL_PFEN   0x20
#define LSI_DCNTL_PFF    0x40
/* SIST0 / SIEN0 */
#define LSI_SIST0_PAR    0x01
#define LSI_SIST0_RST    0x02
#define LSI_SIST0_UDC    0x04
#define LSI_SIST0_SGE    0x08
#define LSI_SIST0_RSL    0x10
#define LSI_SIST0_SEL    0x20
#define LSI_SIST0_CMP    0x40
#define LSI_SIST0_MA     0x80
/* SIST1 / SIEN1 */
#define LSI_SIST1_HTH    0x01
#define LSI_SIST1_GEN    0x02
#define LSI_SIST1_STO    0x04
#define LSI_SIST1_SBMC   0x10
/* CCNTL0 */
#define LSI_CCNTL0_PMJCTL 0x40
#define LSI_CCNTL0_ENPMJ 0x80
/* CCNTL1 */
#define LSI_CCNTL1_EN64DBMV  0x01
#define LSI_CCNTL1_EN64TIBMV 0x02
#define LSI_CCNTL1_64TIMOD   0x04

/* SCSI bus phases, as SSTAT1/SBCL bits 2:0 (MSG, C/D, I/O) carry them. */
#define LSI_PHASE_DO   0
#define LSI_PHASE_DI   1
#define LSI_PHASE_CMD  2
#define LSI_PHASE_ST   3
#define LSI_PHASE_MO   6
#define LSI_PHASE_MI   7
#define LSI_PHASE_MASK 7

#endif
