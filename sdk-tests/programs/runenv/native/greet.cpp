// A C++ module of the app's own, built into python by kontain-python-link.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string>

static PyObject *hello(PyObject *, PyObject *args)
{
	const char *who;
	if (!PyArg_ParseTuple(args, "s", &who))
		return nullptr;
	std::string s = std::string("hello, ") + who;
	return PyUnicode_FromStringAndSize(s.data(), s.size());
}

static PyMethodDef methods[] = {{"hello", hello, METH_VARARGS, "Greets."}, {nullptr, nullptr, 0, nullptr}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "greet", nullptr, -1, methods};

PyMODINIT_FUNC PyInit_greet(void) { return PyModule_Create(&module); }
