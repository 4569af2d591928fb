/*
 * TEST DOUBLE of vssapi.dll, never shipped: built with mingw-w64 by the VSS
 * backend's Wine test and installed in a throwaway Wine prefix's system32,
 * it implements the IVssBackupComponents calls the backend (package vss)
 * makes, over directories that stand in for a volume and its shadow copy.
 * It is compiled against mingw-w64's vsbackup.h, vss.h and vswriter.h: the
 * vtables below are filled by member name from the SDK's C declarations,
 * so the Go side's vtable indices are checked against the headers.
 *
 * Two writers take part:
 *   - a fake ESE writer ("esesnap test double ESE writer") with one
 *     database component, "ese-instance", whose files are a real ESE
 *     instance (the test copies a sample into a temporary directory):
 *     the database file, <base>*.log and <base>.chk;
 *   - a writer with a component elsewhere, which must not be chosen.
 * DoSnapshotSet copies the component's files into the shadow directory at
 * their path below the volume root. BackupComplete "truncates" the logs
 * (deletes the numbered log generations that the shadow copy held) of a
 * full or incremental backup, and records the backup in the database
 * header, only when SetBackupSucceeded(true) was called for the
 * component, as ESE writers do.
 *
 * Environment (Windows paths):
 *   ESESNAP_VSSDOUBLE_INSTANCE  the component's directory on the "volume"
 *   ESESNAP_VSSDOUBLE_DATABASE  the database file name in it
 *   ESESNAP_VSSDOUBLE_BASE      the log base name (three characters)
 *   ESESNAP_VSSDOUBLE_SHADOW    the directory standing in for the shadow copy device
 *   ESESNAP_VSSDOUBLE_CALLS     a file each call is appended to, one line each
 *   ESESNAP_VSSDOUBLE_FAIL      PrepareForBackup, DoSnapshotSet or BackupComplete:
 *                               the ESE writer fails that phase (VSS_E_WRITERERROR_RETRYABLE)
 *   ESESNAP_VSSDOUBLE_WATCH     a file whose presence BackupComplete records in its call line
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <oleauto.h>
#include <vss.h>
#include <vswriter.h>
#include <vsbackup.h>
#include <vsserror.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static const GUID eseWriterClass = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x01}};
static const GUID eseWriterInstance = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x02}};
static const GUID otherWriterClass = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x03}};
static const GUID otherWriterInstance = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x04}};
static const GUID snapshotSet = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x05}};
static const GUID snapshotID = {0x0bada1e0, 0x5e5a, 0x4e5e, {0x8e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x00, 0x06}};
static const WCHAR eseWriterName[] = L"esesnap test double ESE writer";
static const WCHAR componentName[] = L"ese-instance";

static WCHAR instanceDir[MAX_PATH], database[MAX_PATH], base[16], shadowDir[MAX_PATH], volume[MAX_PATH];
static WCHAR logSpec[32], chkSpec[32];
static int backupType, selected, succeeded, added, snapshotDone;
static VSS_WRITER_STATE eseState = VSS_WS_STABLE;
static HRESULT eseFailure = S_OK;

static void env(const WCHAR *name, WCHAR *out, DWORD n) {
	if (!GetEnvironmentVariableW(name, out, n)) out[0] = 0;
}

/* record appends one line to the calls file. */
static void record(const WCHAR *fmt, ...) {
	WCHAR path[MAX_PATH], line[1024];
	va_list ap;
	env(L"ESESNAP_VSSDOUBLE_CALLS", path, MAX_PATH);
	if (!path[0]) return;
	va_start(ap, fmt);
	vswprintf(line, 1024, fmt, ap);
	va_end(ap);
	FILE *f = _wfopen(path, L"a");
	if (!f) return;
	fwprintf(f, L"%ls\n", line);
	fclose(f);
}

/* failsAt reports whether the ESE writer is to fail phase. */
static int failsAt(const WCHAR *phase) {
	WCHAR v[64];
	env(L"ESESNAP_VSSDOUBLE_FAIL", v, 64);
	return wcscmp(v, phase) == 0;
}

/* ---- IVssAsync: every operation is complete when it is returned ---- */
typedef struct { IVssAsync iface; LONG refs; HRESULT result; } Async;
static HRESULT STDMETHODCALLTYPE asyncQI(IVssAsync *This, REFIID riid, void **out) { *out = This; return S_OK; }
static ULONG STDMETHODCALLTYPE asyncAddRef(IVssAsync *This) { return InterlockedIncrement(&((Async *)This)->refs); }
static ULONG STDMETHODCALLTYPE asyncRelease(IVssAsync *This) {
	LONG n = InterlockedDecrement(&((Async *)This)->refs);
	if (n == 0) free(This);
	return n;
}
static HRESULT STDMETHODCALLTYPE asyncCancel(IVssAsync *This) { return VSS_S_ASYNC_FINISHED; }
static HRESULT STDMETHODCALLTYPE asyncWait(IVssAsync *This, DWORD ms) { return S_OK; }
static HRESULT STDMETHODCALLTYPE asyncQueryStatus(IVssAsync *This, HRESULT *hr, INT *reserved) {
	*hr = ((Async *)This)->result;
	return S_OK;
}
static IVssAsyncVtbl asyncVtbl = {
	.QueryInterface = asyncQI, .AddRef = asyncAddRef, .Release = asyncRelease,
	.Cancel = asyncCancel, .Wait = asyncWait, .QueryStatus = asyncQueryStatus,
};
static HRESULT newAsync(IVssAsync **out, HRESULT result) {
	Async *a = calloc(1, sizeof *a);
	a->iface.lpVtbl = &asyncVtbl;
	a->refs = 1;
	a->result = result;
	*out = &a->iface;
	return S_OK;
}

/* ---- IVssWMFiledesc ---- */
typedef struct { IVssWMFiledesc iface; const WCHAR *path, *spec; } Filedesc;
static HRESULT STDMETHODCALLTYPE fdQI(IVssWMFiledesc *This, REFIID riid, void **out) { *out = This; return S_OK; }
static ULONG STDMETHODCALLTYPE fdAddRef(IVssWMFiledesc *This) { return 1; }
static ULONG STDMETHODCALLTYPE fdRelease(IVssWMFiledesc *This) { free(This); return 0; }
static HRESULT STDMETHODCALLTYPE fdGetPath(IVssWMFiledesc *This, BSTR *out) { *out = SysAllocString(((Filedesc *)This)->path); return S_OK; }
static HRESULT STDMETHODCALLTYPE fdGetFilespec(IVssWMFiledesc *This, BSTR *out) { *out = SysAllocString(((Filedesc *)This)->spec); return S_OK; }
static HRESULT STDMETHODCALLTYPE fdGetRecursive(IVssWMFiledesc *This, boolean *out) { *out = 0; return S_OK; }
static HRESULT STDMETHODCALLTYPE fdGetAlternateLocation(IVssWMFiledesc *This, BSTR *out) { *out = NULL; return S_FALSE; }
static HRESULT STDMETHODCALLTYPE fdGetBackupTypeMask(IVssWMFiledesc *This, DWORD *out) { *out = 0; return S_OK; }
static IVssWMFiledescVtbl fdVtbl = {
	.QueryInterface = fdQI, .AddRef = fdAddRef, .Release = fdRelease,
	.GetPath = fdGetPath, .GetFilespec = fdGetFilespec, .GetRecursive = fdGetRecursive,
	.GetAlternateLocation = fdGetAlternateLocation, .GetBackupTypeMask = fdGetBackupTypeMask,
};
static IVssWMFiledesc *newFiledesc(const WCHAR *path, const WCHAR *spec) {
	Filedesc *f = calloc(1, sizeof *f);
	f->iface.lpVtbl = &fdVtbl;
	f->path = path;
	f->spec = spec;
	return &f->iface;
}

/* ---- IVssWMComponent: writer 0 is the ESE writer, 1 the other ---- */
typedef struct { IVssWMComponent iface; int writer; } Component;
static HRESULT STDMETHODCALLTYPE compQI(IVssWMComponent *This, REFIID riid, void **out) { *out = This; return S_OK; }
static ULONG STDMETHODCALLTYPE compAddRef(IVssWMComponent *This) { return 1; }
static ULONG STDMETHODCALLTYPE compRelease(IVssWMComponent *This) { free(This); return 0; }
static HRESULT STDMETHODCALLTYPE compGetComponentInfo(IVssWMComponent *This, PVSSCOMPONENTINFO *out) {
	VSS_COMPONENTINFO *i = calloc(1, sizeof *i);
	int ese = ((Component *)This)->writer == 0;
	i->type = VSS_CT_DATABASE;
	i->bstrLogicalPath = ese ? NULL : SysAllocString(L"System");
	i->bstrComponentName = SysAllocString(ese ? componentName : L"Registry");
	i->bstrCaption = SysAllocString(ese ? L"ESE instance (test double)" : L"Registry (test double)");
	i->bSelectable = 1;
	i->bNotifyOnBackupComplete = 1;
	i->cDatabases = 1;
	i->cLogFiles = ese ? 2 : 0;
	*out = i;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE compFreeComponentInfo(IVssWMComponent *This, PVSSCOMPONENTINFO info) {
	SysFreeString(info->bstrLogicalPath);
	SysFreeString(info->bstrComponentName);
	SysFreeString(info->bstrCaption);
	free((void *)info);
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE compGetFile(IVssWMComponent *This, UINT i, IVssWMFiledesc **out) { return E_INVALIDARG; }
static HRESULT STDMETHODCALLTYPE compGetDatabaseFile(IVssWMComponent *This, UINT i, IVssWMFiledesc **out) {
	if (i != 0) return E_INVALIDARG;
	*out = ((Component *)This)->writer == 0 ? newFiledesc(instanceDir, database) : newFiledesc(L"%SystemRoot%\\system32\\config", L"SOFTWARE");
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE compGetDatabaseLogFile(IVssWMComponent *This, UINT i, IVssWMFiledesc **out) {
	if (((Component *)This)->writer != 0 || i > 1) return E_INVALIDARG;
	*out = newFiledesc(instanceDir, i == 0 ? logSpec : chkSpec);
	return S_OK;
}
static IVssWMComponentVtbl compVtbl = {
	.QueryInterface = compQI, .AddRef = compAddRef, .Release = compRelease,
	.GetComponentInfo = compGetComponentInfo, .FreeComponentInfo = compFreeComponentInfo,
	.GetFile = compGetFile, .GetDatabaseFile = compGetDatabaseFile, .GetDatabaseLogFile = compGetDatabaseLogFile,
};

/* ---- IVssExamineWriterMetadata ---- */
typedef struct { IVssExamineWriterMetadata iface; int writer; } Metadata;
static HRESULT STDMETHODCALLTYPE mdQI(IVssExamineWriterMetadata *This, REFIID riid, void **out) { *out = This; return S_OK; }
static ULONG STDMETHODCALLTYPE mdAddRef(IVssExamineWriterMetadata *This) { return 1; }
static ULONG STDMETHODCALLTYPE mdRelease(IVssExamineWriterMetadata *This) { free(This); return 0; }
static HRESULT STDMETHODCALLTYPE mdGetIdentity(IVssExamineWriterMetadata *This, VSS_ID *inst, VSS_ID *class, BSTR *name, VSS_USAGE_TYPE *usage, VSS_SOURCE_TYPE *source) {
	int ese = ((Metadata *)This)->writer == 0;
	*inst = ese ? eseWriterInstance : otherWriterInstance;
	*class = ese ? eseWriterClass : otherWriterClass;
	*name = SysAllocString(ese ? eseWriterName : L"Registry Writer");
	*usage = VSS_UT_USERDATA;
	*source = VSS_ST_TRANSACTEDDB;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE mdGetFileCounts(IVssExamineWriterMetadata *This, UINT *inc, UINT *exc, UINT *comps) {
	*inc = 0; *exc = 0; *comps = 1;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE mdGetComponent(IVssExamineWriterMetadata *This, UINT i, IVssWMComponent **out) {
	if (i != 0) return E_INVALIDARG;
	Component *c = calloc(1, sizeof *c);
	c->iface.lpVtbl = &compVtbl;
	c->writer = ((Metadata *)This)->writer;
	*out = &c->iface;
	return S_OK;
}
static IVssExamineWriterMetadataVtbl mdVtbl = {
	.QueryInterface = mdQI, .AddRef = mdAddRef, .Release = mdRelease,
	.GetIdentity = mdGetIdentity, .GetFileCounts = mdGetFileCounts, .GetComponent = mdGetComponent,
};

/* ---- files ---- */

/* mkdirs creates dir and its parents. */
static void mkdirs(WCHAR *dir) {
	for (WCHAR *p = dir + 3; *p; p++) {
		if (*p == L'\\') {
			*p = 0;
			CreateDirectoryW(dir, NULL);
			*p = L'\\';
		}
	}
	CreateDirectoryW(dir, NULL);
}

/* shadowOf is the instance directory's place in the shadow directory. */
static void shadowOf(WCHAR *out) {
	swprintf(out, MAX_PATH, L"%ls\\%ls", shadowDir, instanceDir + wcslen(volume));
}

/* forEach calls f with the directory and name of each file matching spec in dir. */
static int forEach(const WCHAR *dir, const WCHAR *spec, int (*f)(const WCHAR *dir, const WCHAR *name)) {
	WCHAR pattern[MAX_PATH];
	WIN32_FIND_DATAW fd;
	int n = 0;
	swprintf(pattern, MAX_PATH, L"%ls\\%ls", dir, spec);
	HANDLE h = FindFirstFileW(pattern, &fd);
	if (h == INVALID_HANDLE_VALUE) return 0;
	do {
		if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) n += f(dir, fd.cFileName);
	} while (FindNextFileW(h, &fd));
	FindClose(h);
	return n;
}

static int copyToShadow(const WCHAR *dir, const WCHAR *name) {
	WCHAR from[MAX_PATH], to[MAX_PATH], sdir[MAX_PATH];
	shadowOf(sdir);
	swprintf(from, MAX_PATH, L"%ls\\%ls", dir, name);
	swprintf(to, MAX_PATH, L"%ls\\%ls", sdir, name);
	return CopyFileW(from, to, FALSE) ? 1 : 0;
}

/* generation is the generation of a numbered log <base>XXXXXXXX.log (or
 * the five-digit form of old logs), 0 for any other name (<base>.log,
 * <base>tmp.log). */
static unsigned long generation(const WCHAR *name) {
	size_t nb = wcslen(base), n = wcslen(name);
	if (n != nb + 12 && n != nb + 9) return 0;
	if (_wcsnicmp(name, base, nb) != 0 || _wcsicmp(name + n - 4, L".log") != 0) return 0;
	unsigned long g = 0;
	for (const WCHAR *p = name + nb; p < name + n - 4; p++) {
		int d = iswdigit(*p) ? *p - L'0' : (*p >= L'A' && *p <= L'F') ? *p - L'A' + 10 : (*p >= L'a' && *p <= L'f') ? *p - L'a' + 10 : -1;
		if (d < 0) return 0;
		g = g * 16 + d;
	}
	return g;
}

static unsigned long highest;

static int findHighest(const WCHAR *dir, const WCHAR *name) {
	unsigned long g = generation(name);
	if (g > highest) highest = g;
	return 0;
}

/* truncateLive deletes, on the volume, a numbered generation the shadow
 * copy holds below the highest one it holds: the writer keeps the newest
 * generation (a stand-in for ESE's rule, which truncates below the
 * checkpoint's generation). */
static int truncateLive(const WCHAR *dir, const WCHAR *name) {
	WCHAR live[MAX_PATH];
	unsigned long g = generation(name);
	if (g == 0 || g >= highest) return 0;
	swprintf(live, MAX_PATH, L"%ls\\%ls", instanceDir, name);
	return DeleteFileW(live) ? 1 : 0;
}

/* recordBackup writes the backup into both header pages of the live
 * database, as ESE does at the end of a backup the writer reports: the
 * BKINFO at offBK (lgposMark, logtimeMark left zero, genLow, genHigh),
 * its type at offType (0, a normal backup) and the header checksum
 * (0x89ABCDEF XOR every dword but the first). The range is a stand-in for
 * ESE's: the newest numbered generation the shadow copy held, and the
 * current log after it. */
static int recordBackup(int offBK, int offType, DWORD genLow, DWORD genHigh) {
	WCHAR path[MAX_PATH];
	BYTE page[32768];
	DWORD n, cbPage = 4096;
	swprintf(path, MAX_PATH, L"%ls\\%ls", instanceDir, database);
	HANDLE f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	if (f == INVALID_HANDLE_VALUE) return 0;
	if (!ReadFile(f, page, 4096, &n, NULL) || n != 4096) goto fail;
	memcpy(&cbPage, page + 236, 4);
	if (cbPage == 0) cbPage = 4096;
	if (cbPage > sizeof page) goto fail;
	for (int i = 0; i < 2; i++) {
		LARGE_INTEGER at = {.QuadPart = (LONGLONG)i * cbPage};
		if (!SetFilePointerEx(f, at, NULL, FILE_BEGIN) || !ReadFile(f, page, cbPage, &n, NULL) || n != cbPage) goto fail;
		BYTE *bk = page + offBK;
		ZeroMemory(bk, 24);
		memcpy(bk + 4, &genHigh, 4); /* lgposMark: ib 0, isec 0, generation */
		memcpy(bk + 16, &genLow, 4);
		memcpy(bk + 20, &genHigh, 4);
		ZeroMemory(page + offType, 4);
		DWORD sum = 0x89ABCDEF;
		for (DWORD o = 4; o < cbPage; o += 4) {
			DWORD d;
			memcpy(&d, page + o, 4);
			sum ^= d;
		}
		memcpy(page, &sum, 4);
		if (!SetFilePointerEx(f, at, NULL, FILE_BEGIN) || !WriteFile(f, page, cbPage, &n, NULL) || n != cbPage) goto fail;
	}
	CloseHandle(f);
	return 1;
fail:
	CloseHandle(f);
	return 0;
}

/* ---- IVssBackupComponents ---- */
typedef struct { IVssBackupComponents iface; LONG refs; } Backup;
static HRESULT STDMETHODCALLTYPE bcQI(IVssBackupComponents *This, REFIID riid, void **out) { *out = This; return S_OK; }
static ULONG STDMETHODCALLTYPE bcAddRef(IVssBackupComponents *This) { return InterlockedIncrement(&((Backup *)This)->refs); }
static ULONG STDMETHODCALLTYPE bcRelease(IVssBackupComponents *This) {
	LONG n = InterlockedDecrement(&((Backup *)This)->refs);
	if (n == 0) {
		record(L"Release");
		free(This);
	}
	return n;
}
static HRESULT STDMETHODCALLTYPE bcInitializeForBackup(IVssBackupComponents *This, BSTR xml) {
	record(L"InitializeForBackup");
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcSetBackupState(IVssBackupComponents *This, boolean selectComponents, boolean bootable, VSS_BACKUP_TYPE type, boolean partial) {
	record(L"SetBackupState select=%d type=%d", selectComponents, type);
	selected = selectComponents;
	backupType = type;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcGatherWriterMetadata(IVssBackupComponents *This, IVssAsync **out) {
	record(L"GatherWriterMetadata");
	return newAsync(out, VSS_S_ASYNC_FINISHED);
}
static HRESULT STDMETHODCALLTYPE bcGetWriterMetadataCount(IVssBackupComponents *This, UINT *n) { *n = 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE bcGetWriterMetadata(IVssBackupComponents *This, UINT i, VSS_ID *inst, IVssExamineWriterMetadata **out) {
	if (i > 1) return E_INVALIDARG;
	Metadata *m = calloc(1, sizeof *m);
	m->iface.lpVtbl = &mdVtbl;
	m->writer = i;
	*inst = i == 0 ? eseWriterInstance : otherWriterInstance;
	*out = &m->iface;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcFreeWriterMetadata(IVssBackupComponents *This) { return S_OK; }
static HRESULT STDMETHODCALLTYPE bcAddComponent(IVssBackupComponents *This, VSS_ID inst, VSS_ID writer, VSS_COMPONENT_TYPE ct, LPCWSTR lp, LPCWSTR name) {
	record(L"AddComponent %ls type=%d", name ? name : L"(null)", ct);
	if (!IsEqualGUID(&writer, &eseWriterClass) || !IsEqualGUID(&inst, &eseWriterInstance) || !name || wcscmp(name, componentName) != 0 || ct != VSS_CT_DATABASE)
		return VSS_E_OBJECT_NOT_FOUND;
	added = 1;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcPrepareForBackup(IVssBackupComponents *This, IVssAsync **out) {
	record(L"PrepareForBackup");
	if (failsAt(L"PrepareForBackup")) {
		eseState = VSS_WS_FAILED_AT_PREPARE_BACKUP;
		eseFailure = VSS_E_WRITERERROR_RETRYABLE;
	}
	return newAsync(out, VSS_S_ASYNC_FINISHED);
}
static HRESULT STDMETHODCALLTYPE bcAbortBackup(IVssBackupComponents *This) {
	record(L"AbortBackup");
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcGatherWriterStatus(IVssBackupComponents *This, IVssAsync **out) { return newAsync(out, VSS_S_ASYNC_FINISHED); }
static HRESULT STDMETHODCALLTYPE bcGetWriterStatusCount(IVssBackupComponents *This, UINT *n) { *n = 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE bcFreeWriterStatus(IVssBackupComponents *This) { return S_OK; }
static HRESULT STDMETHODCALLTYPE bcGetWriterStatus(IVssBackupComponents *This, UINT i, VSS_ID *inst, VSS_ID *writer, BSTR *name, VSS_WRITER_STATE *state, HRESULT *failure) {
	if (i > 1) return E_INVALIDARG;
	*inst = i == 0 ? eseWriterInstance : otherWriterInstance;
	*writer = i == 0 ? eseWriterClass : otherWriterClass;
	*name = SysAllocString(i == 0 ? eseWriterName : L"Registry Writer");
	*state = i == 0 ? eseState : VSS_WS_STABLE;
	*failure = i == 0 ? eseFailure : S_OK;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcSetBackupSucceeded(IVssBackupComponents *This, VSS_ID inst, VSS_ID writer, VSS_COMPONENT_TYPE ct, LPCWSTR lp, LPCWSTR name, boolean ok) {
	record(L"SetBackupSucceeded %ls %d", name ? name : L"(null)", ok);
	if (!added || !IsEqualGUID(&writer, &eseWriterClass) || !name || wcscmp(name, componentName) != 0)
		return VSS_E_OBJECT_NOT_FOUND;
	succeeded = ok;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcBackupComplete(IVssBackupComponents *This, IVssAsync **out) {
	WCHAR watch[MAX_PATH], sdir[MAX_PATH];
	env(L"ESESNAP_VSSDOUBLE_WATCH", watch, MAX_PATH);
	int present = watch[0] && GetFileAttributesW(watch) != INVALID_FILE_ATTRIBUTES;
	int truncated = 0;
	if (failsAt(L"BackupComplete")) {
		eseState = VSS_WS_FAILED_AT_BACKUP_COMPLETE;
		eseFailure = VSS_E_WRITERERROR_NONRETRYABLE;
	} else if (succeeded && snapshotDone && (backupType == VSS_BT_FULL || backupType == VSS_BT_INCREMENTAL)) {
		shadowOf(sdir);
		highest = 0;
		forEach(sdir, logSpec, findHighest);
		truncated = forEach(sdir, logSpec, truncateLive);
		/* bkinfoFullPrev at 136 (type at 356), bkinfoIncPrev at 160 (type at 360) */
		if (highest && !recordBackup(backupType == VSS_BT_FULL ? 136 : 160, backupType == VSS_BT_FULL ? 356 : 360, highest, highest + 1))
			record(L"BackupComplete could not record the backup in the database header");
		eseState = VSS_WS_STABLE;
	}
	record(L"BackupComplete watched=%ls truncated=%d", present ? L"present" : L"absent", truncated);
	return newAsync(out, VSS_S_ASYNC_FINISHED);
}
static HRESULT STDMETHODCALLTYPE bcStartSnapshotSet(IVssBackupComponents *This, VSS_ID *set) {
	record(L"StartSnapshotSet");
	*set = snapshotSet;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcAddToSnapshotSet(IVssBackupComponents *This, VSS_PWSZ vol, VSS_ID provider, VSS_ID *id) {
	record(L"AddToSnapshotSet %ls", vol);
	if (_wcsicmp(vol, volume) != 0) return VSS_E_VOLUME_NOT_SUPPORTED;
	*id = snapshotID;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcDoSnapshotSet(IVssBackupComponents *This, IVssAsync **out) {
	WCHAR sdir[MAX_PATH];
	record(L"DoSnapshotSet");
	if (failsAt(L"DoSnapshotSet")) {
		eseState = VSS_WS_FAILED_AT_FREEZE;
		eseFailure = VSS_E_WRITERERROR_RETRYABLE;
		return newAsync(out, VSS_S_ASYNC_FINISHED);
	}
	shadowOf(sdir);
	mkdirs(sdir);
	forEach(instanceDir, database, copyToShadow);
	forEach(instanceDir, logSpec, copyToShadow);
	forEach(instanceDir, chkSpec, copyToShadow);
	snapshotDone = 1;
	eseState = VSS_WS_WAITING_FOR_BACKUP_COMPLETE;
	return newAsync(out, VSS_S_ASYNC_FINISHED);
}
static HRESULT STDMETHODCALLTYPE bcDeleteSnapshots(IVssBackupComponents *This, VSS_ID id, VSS_OBJECT_TYPE type, WINBOOL force, LONG *deleted, VSS_ID *nondeleted) {
	record(L"DeleteSnapshots type=%d", type);
	*deleted = 1;
	return S_OK;
}
static HRESULT STDMETHODCALLTYPE bcGetSnapshotProperties(IVssBackupComponents *This, VSS_ID id, VSS_SNAPSHOT_PROP *p) {
	if (!IsEqualGUID(&id, &snapshotID)) return VSS_E_OBJECT_NOT_FOUND;
	ZeroMemory(p, sizeof *p);
	p->m_SnapshotId = snapshotID;
	p->m_SnapshotSetId = snapshotSet;
	p->m_lSnapshotsCount = 1;
	p->m_pwszSnapshotDeviceObject = CoTaskMemAlloc((wcslen(shadowDir) + 1) * sizeof(WCHAR));
	wcscpy(p->m_pwszSnapshotDeviceObject, shadowDir);
	p->m_pwszOriginalVolumeName = CoTaskMemAlloc((wcslen(volume) + 1) * sizeof(WCHAR));
	wcscpy(p->m_pwszOriginalVolumeName, volume);
	GetSystemTimeAsFileTime((FILETIME *)&p->m_tsCreationTimestamp);
	p->m_eStatus = VSS_SS_CREATED;
	return S_OK;
}
static IVssBackupComponentsVtbl bcVtbl = {
	.QueryInterface = bcQI, .AddRef = bcAddRef, .Release = bcRelease,
	.InitializeForBackup = bcInitializeForBackup, .SetBackupState = bcSetBackupState,
	.GatherWriterMetadata = bcGatherWriterMetadata, .GetWriterMetadataCount = bcGetWriterMetadataCount,
	.GetWriterMetadata = bcGetWriterMetadata, .FreeWriterMetadata = bcFreeWriterMetadata,
	.AddComponent = bcAddComponent, .PrepareForBackup = bcPrepareForBackup, .AbortBackup = bcAbortBackup,
	.GatherWriterStatus = bcGatherWriterStatus, .GetWriterStatusCount = bcGetWriterStatusCount,
	.FreeWriterStatus = bcFreeWriterStatus, .GetWriterStatus = bcGetWriterStatus,
	.SetBackupSucceeded = bcSetBackupSucceeded, .BackupComplete = bcBackupComplete,
	.StartSnapshotSet = bcStartSnapshotSet, .AddToSnapshotSet = bcAddToSnapshotSet,
	.DoSnapshotSet = bcDoSnapshotSet, .DeleteSnapshots = bcDeleteSnapshots,
	.GetSnapshotProperties = bcGetSnapshotProperties,
};

__declspec(dllexport) HRESULT STDAPICALLTYPE CreateVssBackupComponentsInternal(IVssBackupComponents **out) {
	env(L"ESESNAP_VSSDOUBLE_INSTANCE", instanceDir, MAX_PATH);
	env(L"ESESNAP_VSSDOUBLE_DATABASE", database, MAX_PATH);
	env(L"ESESNAP_VSSDOUBLE_BASE", base, 16);
	env(L"ESESNAP_VSSDOUBLE_SHADOW", shadowDir, MAX_PATH);
	if (!instanceDir[0] || !database[0] || !base[0] || !shadowDir[0]) return E_ACCESSDENIED;
	if (!GetVolumePathNameW(instanceDir, volume, MAX_PATH)) return E_UNEXPECTED;
	swprintf(logSpec, 32, L"%ls*.log", base);
	swprintf(chkSpec, 32, L"%ls.chk", base);
	/* One backup per IVssBackupComponents, as in VSS: a new one starts
	 * with the writer stable and nothing selected. */
	backupType = selected = succeeded = added = snapshotDone = 0;
	eseState = VSS_WS_STABLE;
	eseFailure = S_OK;
	record(L"CreateVssBackupComponents");
	Backup *b = calloc(1, sizeof *b);
	b->iface.lpVtbl = &bcVtbl;
	b->refs = 1;
	*out = &b->iface;
	return S_OK;
}

__declspec(dllexport) void APIENTRY VssFreeSnapshotPropertiesInternal(VSS_SNAPSHOT_PROP *p) {
	CoTaskMemFree(p->m_pwszSnapshotDeviceObject);
	CoTaskMemFree(p->m_pwszOriginalVolumeName);
}
