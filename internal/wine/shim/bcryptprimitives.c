/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Go programs
 * under Wine 8 only. Go 1.26's runtime takes its random numbers from
 * ProcessPrng in bcryptprimitives.dll (Windows 10 and later); Wine 8 ships
 * no such DLL, so every Go program dies at start with "bcryptprimitives.dll
 * not found". This DLL exports ProcessPrng on top of BCryptGenRandom, which
 * Wine does implement. It is copied into the test's own Wine prefix; it is
 * never shipped and never used on Windows.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
